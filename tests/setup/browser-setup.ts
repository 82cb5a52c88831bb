import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromiumPath } from '../support/browser.ts';

/**
 * The browser tier needs Chromium from the distribution (playwright-core downloads nothing). When it is
 * missing it is installed the way the test services are: scripts/services/install.sh, as root on Debian.
 */
export default function setup() {
  const path = chromiumPath();
  if (existsSync(path)) return;
  const canInstall = existsSync('/etc/debian_version') && process.getuid?.() === 0;
  if (!canInstall) {
    throw new Error(
      `Chromium is not at ${path} (set CHROMIUM_PATH to another one). Run: sudo npm run services:install`,
    );
  }
  process.stdout.write('[browser] installing chromium with scripts/services/install.sh\n');
  const install = spawnSync('bash', ['scripts/services/install.sh'], { stdio: 'inherit' });
  if (install.status !== 0 || !existsSync(path)) {
    throw new Error(`scripts/services/install.sh did not install Chromium at ${path}`);
  }
}
