/*
 * The launcher's "DTE Hub" section: a "Data catalog" card, and a card per twin dashboard.
 *
 * What to offer comes from the server extension (GET dte/api/launcher): on DTE Hub the
 * dashboards the user may open, at their pages on the hub; elsewhere (Binder) the twin
 * notebooks, as Voila dashboards of this server. The catalog card opens the notebook the
 * server extension keeps for it (POST dte/api/launcher/catalog) on the DTE kernel, and runs it
 * while it is as the server wrote it.
 */
import { ILauncher } from '@jupyterlab/launcher';

import { catalogIcon, environmentIcon, physicsIcon } from './icons';
import { askServer } from './server';

const CATEGORY = 'DTE Hub';

export const launcherPlugin = {
  id: '@dte-hub/jupyterlab:launcher',
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
        const notebook = await askServer('launcher/catalog', { method: 'POST' });
        const panel = await commands.execute('docmanager:open', {
          path: notebook.path,
          factory: 'Notebook',
          kernel: { name: 'dte' }
        });
        await panel.context.ready;
        await panel.sessionContext.ready;
        // the user's own cells, once they changed the notebook, may be long: theirs to run
        if (notebook.as_written) {
          await commands.execute('notebook:run-all-cells');
        }
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
