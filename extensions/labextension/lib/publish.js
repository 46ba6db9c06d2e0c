/*
 * "Publish as Dashboard…" (File menu, notebook toolbar, command palette): the open notebook,
 * saved, goes to the dashboards service through the server extension (PUT
 * dte/api/dashboards/<name>), with a title, a description and the groups that may open it.
 * The service decides who may publish and replace; its refusals are shown as it says them.
 * Only on DTE Hub: without a hub (Binder) there is nowhere to publish, and the action is hidden.
 */
import { Dialog, ICommandPalette, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { Widget } from '@lumino/widgets';

import { publishIcon } from './icons';
import { askServer } from './server';

const COMMAND = 'dte-hub:publish-notebook';
const DOMAINS = ['environment', 'physics', 'other'];

/** The dashboard's name in its URL, from the notebook's file name (my_River.ipynb: my-river). */
function nameOf(path) {
  const stem = path.split('/').pop().replace(/\.ipynb$/, '');
  const name = stem.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return /^[a-z]/.test(name) ? name : `dashboard-${name}`;
}

/** The notebook's first heading, the title its readers already see. */
function headingOf(panel) {
  for (const cell of panel.content.model.sharedModel.cells) {
    if (cell.cell_type === 'markdown') {
      const line = cell.getSource().trim().split('\n')[0] || '';
      return line.replace(/^#+\s*/, '').trim();
    }
  }
  return '';
}

/** The dialog's form: one labelled field per part of the publication. */
class PublishForm extends Widget {
  constructor(defaults) {
    super();
    this.addClass('dte-publish-form');
    this.fields = {};
    const field = (key, label, control, hint) => {
      const id = `dte-publish-${key}`;
      const row = document.createElement('p');
      const text = document.createElement('label');
      text.htmlFor = id;
      text.textContent = label;
      control.id = id;
      control.className = 'jp-mod-styled';
      control.style.width = '100%';
      row.append(text, document.createElement('br'), control);
      if (hint) {
        const small = document.createElement('small');
        small.textContent = hint;
        row.append(document.createElement('br'), small);
      }
      this.node.append(row);
      this.fields[key] = control;
    };
    const input = value => {
      const element = document.createElement('input');
      element.value = value;
      return element;
    };
    field('title', 'Title', input(defaults.title));
    field('description', 'Description', input(''), 'One sentence for the gallery card.');
    field('groups', 'Groups that may open it', input('dt-users'), 'Comma-separated group names.');
    const domain = document.createElement('select');
    DOMAINS.forEach(name => domain.add(new Option(name, name)));
    field('domain', 'Domain', domain);
    field('name', 'Name in the address', input(defaults.name), 'Publishing the same name again replaces it.');
  }

  getValue() {
    const value = key => this.fields[key].value.trim();
    return {
      name: value('name'),
      title: value('title'),
      description: value('description'),
      domain: value('domain'),
      groups: value('groups')
        .split(',')
        .map(group => group.trim())
        .filter(Boolean)
    };
  }
}

export const publishPlugin = {
  id: '@dte-hub/jupyterlab:publish',
  description: 'Publish the open notebook as a dashboard on DTE Hub.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app, palette) => {
    const onHub = Boolean(PageConfig.getOption('hubPrefix'));
    const openNotebook = () => {
      const widget = app.shell.currentWidget;
      const path = widget && widget.context && widget.context.path;
      return path && path.endsWith('.ipynb') && widget.content && widget.content.model
        ? widget
        : null;
    };

    app.commands.addCommand(COMMAND, {
      label: 'Publish as Dashboard…',
      caption: 'Publish this notebook as a dashboard on DTE Hub, for the groups you choose',
      icon: publishIcon,
      isVisible: () => onHub,
      isEnabled: () => onHub && openNotebook() !== null,
      execute: async () => {
        const panel = openNotebook();
        if (!panel) {
          return;
        }
        await panel.context.save();
        const defaults = { name: nameOf(panel.context.path), title: headingOf(panel) };
        const answer = await showDialog({
          title: 'Publish as dashboard',
          body: new PublishForm(defaults),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Publish' })],
          focusNodeSelector: 'input'
        });
        if (!answer.button.accept) {
          return;
        }
        const { name, ...fields } = answer.value;
        try {
          const dashboard = await askServer(`dashboards/${encodeURIComponent(name)}`, {
            method: 'PUT',
            body: JSON.stringify({ path: panel.context.path, ...fields })
          });
          Notification.success(
            `Published “${dashboard.title}” (version ${dashboard.version}) for ` +
              `${dashboard.groups.join(', ')}.`,
            {
              autoClose: false,
              actions: [
                {
                  label: 'Open',
                  callback: () => window.open(dashboard.page, '_blank', 'noopener')
                }
              ]
            }
          );
        } catch (error) {
          Notification.error(`Not published: ${error.message}`, { autoClose: false });
        }
      }
    });
    if (palette && onHub) {
      palette.addItem({ command: COMMAND, category: 'DTE Hub' });
    }
  }
};
