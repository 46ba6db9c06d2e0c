/* DTE Hub's JupyterLab extension: the launcher's DTE Hub section, and publishing dashboards. */
import { launcherPlugin } from './launcher';
import { publishPlugin } from './publish';

export default [launcherPlugin, publishPlugin];
