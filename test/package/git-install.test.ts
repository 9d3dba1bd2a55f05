import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { root } from '../service/helpers.ts';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const env = { ...process.env, TROUPE_LOG_LEVEL: 'silent', npm_config_update_notifier: 'false' };
/** npm prepares a git dependency by installing all of its dependencies, dev ones included, then building: minutes. */
const BUDGET_MS = 420_000;

/** Why this test cannot run here, or undefined. */
function unavailable(): string | undefined {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'git is not installed';
  }
  try {
    execFileSync('git', ['rev-parse', '--git-dir'], { cwd: root, stdio: 'ignore' });
  } catch {
    return `${root} is not a git checkout`;
  }
  return undefined;
}
const skipReason = unavailable();
if (skipReason !== undefined) console.log(`install from git: skipped (${skipReason})`);

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec(command, args, { cwd, env, timeout: BUDGET_MS, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * Troupe installed the way `npm install git+<url>` does it: npm clones the repository, installs its dependencies,
 * runs `prepare` (the build), packs the result and installs that. The repository is a fresh commit of this working
 * tree (tracked and new files as they are now, so the test sees uncommitted changes too), reached by a file URL.
 */
describe.skipIf(skipReason !== undefined)('installed from git (npm install git+file://...)', () => {
  let work: string;
  let app: string;
  let took = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'troupe-git-'));
    const repo = join(work, 'repo');
    app = join(work, 'app');
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (!existsSync(join(root, f))) continue; // deleted in the working tree, not yet committed
      mkdirSync(dirname(join(repo, f)), { recursive: true });
      copyFileSync(join(root, f), join(repo, f));
    }
    const git = (...args: string[]) => run('git', ['-c', 'user.name=troupe-test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], repo);
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'snapshot of the working tree');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'troupe-git-app', private: true, type: 'module' }));
    for (const f of ['app.mjs', 'actors.mjs']) cpSync(join(root, 'test', 'package', 'app', f), join(app, f));
    const spec = `git+file://${repo}`;
    const flags = ['--no-audit', '--no-fund', '--no-package-lock'];
    const t0 = performance.now();
    // Dependencies from the npm cache the repo's own install filled; the registry only for what is missing.
    await run(npm, ['install', spec, '--offline', ...flags], app).catch(() => run(npm, ['install', spec, '--prefer-offline', ...flags], app));
    took = Math.round(performance.now() - t0);
  }, BUDGET_MS + 60_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    console.log(`install from git: npm install took ${took} ms`);
  });

  it('ran prepare: the installed package is the built one (compiled JavaScript and .d.ts, no sources)', () => {
    const pkg = join(app, 'node_modules', 'troupe');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/runtime/worker.js', 'dist/ops/tracing/index.js', 'dist/bin/troupe.js']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(existsSync(join(pkg, 'runtime'))).toBe(false);
    expect(existsSync(join(pkg, 'test'))).toBe(false);
  });

  it('the app imports troupe by name and runs with worker threads and a durable actor (node app.mjs, no loader)', async () => {
    const out = await run(process.execPath, ['app.mjs', join(work, 'data'), '1'], app);
    expect(out).toBe('js run 1: thread 2, journaled deposit-1, balance 10, ops function\n');
  }, 60_000);
});
