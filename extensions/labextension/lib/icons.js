/* Icons drawn for this extension: a stack of tables, a wave, an orbit, an upload. */
import { LabIcon } from '@jupyterlab/ui-components';

function icon(name, body) {
  return new LabIcon({
    name: `dte-hub:${name}`,
    svgstr: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">${body}</svg>`
  });
}

const STROKE = 'fill="none" stroke="#616161" stroke-width="2"';

export const catalogIcon = icon(
  'catalog',
  '<g class="jp-icon3" fill="#616161"><ellipse cx="12" cy="5" rx="8" ry="3"/>' +
    '<path d="M4 7v4c0 1.7 3.6 3 8 3s8-1.3 8-3V7c0 1.7-3.6 3-8 3S4 8.7 4 7z"/>' +
    '<path d="M4 13v4c0 1.7 3.6 3 8 3s8-1.3 8-3v-4c0 1.7-3.6 3-8 3s-8-1.3-8-3z"/></g>'
);
export const environmentIcon = icon(
  'environment',
  `<g class="jp-icon3" ${STROKE}><path d="M2 9c3-3 5 3 8 0s5-3 8 0 3 1 4 0"/>` +
    '<path d="M2 15c3-3 5 3 8 0s5-3 8 0 3 1 4 0"/></g>'
);
export const physicsIcon = icon(
  'physics',
  `<g class="jp-icon3" ${STROKE}><ellipse cx="12" cy="12" rx="10" ry="4"/>` +
    '<ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(60 12 12)"/>' +
    '<ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(120 12 12)"/></g>'
);
export const publishIcon = icon(
  'publish',
  `<g class="jp-icon3" ${STROKE}><path d="M12 16V4M7 9l5-5 5 5"/><path d="M4 15v5h16v-5"/></g>`
);
