/*
 * DTE Hub in JupyterLab's launcher: a "Data catalog" card, and a card per twin dashboard.
 *
 * What to offer comes from the server extension (GET dte/api/launcher): on DTE Hub the
 * dashboards the user may open, at their pages on the hub; elsewhere (Binder) the twin
 * notebooks, as Voila dashboards of this server. The catalog card opens the notebook the
 * server extension keeps for it (POST dte/api/launcher/catalog) on the DTE kernel and runs it.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ILauncher } from '@jupyterlab/launcher';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';

const CATEGORY = 'DTE Hub';

// drawn for this extension: a stack of tables, a wave, an orbit
const catalogIcon = new LabIcon({
  name: 'dte-hub:catalog',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<ellipse cx="12" cy="5" rx="8" ry="3"/><path d="M4 7v4c0 1.7 3.6 3 8 3s8-1.3 8-3V7c0 1.7-3.6 3-8 3S4 8.7 4 7z"/>' +
    '<path d="M4 13v4c0 1.7 3.6 3 8 3s8-1.3 8-3v-4c0 1.7-3.6 3-8 3s-8-1.3-8-3z"/></g></svg>'
});
const environmentIcon = new LabIcon({
  name: 'dte-hub:environment',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="none" stroke="#616161" stroke-width="2">' +
    '<path d="M2 9c3-3 5 3 8 0s5-3 8 0 3 1 4 0"/><path d="M2 15c3-3 5 3 8 0s5-3 8 0 3 1 4 0"/></g></svg>'
});
const physicsIcon = new LabIcon({
  name: 'dte-hub:physics',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="none" stroke="#616161" stroke-width="1.6">' +
    '<ellipse cx="12" cy="12" rx="10" ry="4"/><ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(60 12 12)"/>' +
    '<ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(120 12 12)"/></g>' +
    '<circle class="jp-icon3" cx="12" cy="12" r="2" fill="#616161"/></svg>'
});

async function askServer(path, init = {}) {
  const settings = ServerConnection.makeSettings();
  const response = await ServerConnection.makeRequest(
    URLExt.join(settings.baseUrl, 'dte/api', path),
    init,
    settings
  );
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.message || `the server answered ${response.status}`);
  }
  return body;
}

const plugin = {
  id: '@dte-hub/jupyterlab-launcher:plugin',
  description: 'The DTE data catalog and every twin dashboard in the launcher.',
  autoStart: true,
  requires: [ILauncher],
  activate: (app, launcher) => {
    const { commands } = app;

    commands.addCommand('dte-hub:open-catalog', {
      label: 'Data catalog',
      caption: "Browse, search and preview the twins' data (a notebook on the DTE kernel)",
      icon: catalogIcon,
      execute: async () => {
        const { path } = await askServer('launcher/catalog', { method: 'POST' });
        const panel = await commands.execute('docmanager:open', {
          path,
          factory: 'Notebook',
          kernel: { name: 'dte' }
        });
        await panel.context.ready;
        await panel.sessionContext.ready;
        await commands.execute('notebook:run-all-cells');
        return panel;
      }
    });

    commands.addCommand('dte-hub:open-dashboard', {
      label: args => args.title || 'Dashboard',
      caption: args => `${args.description || ''} Opens in a new tab.`.trim(),
      icon: args => (args.domain === 'physics' ? physicsIcon : environmentIcon),
      execute: args => {
        window.open(args.url, '_blank', 'noopener');
      }
    });

    launcher.add({ command: 'dte-hub:open-catalog', category: CATEGORY, rank: 0 });

    // asked after start-up: JupyterLab does not wait for the hub's answer
    askServer('launcher')
      .then(offer => {
        offer.dashboards.forEach((dashboard, index) => {
          launcher.add({
            command: 'dte-hub:open-dashboard',
            args: dashboard,
            category: CATEGORY,
            rank: index + 1
          });
        });
        if (offer.problem) {
          console.warn(`DTE Hub: no dashboards in the launcher: ${offer.problem}`);
        }
      })
      .catch(error => console.warn(`DTE Hub: no dashboards in the launcher: ${error.message}`));
  }
};

export default plugin;
