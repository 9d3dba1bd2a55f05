import { afterAll, beforeAll, describe, expect, it as test } from 'vitest';

/** Each step runs processes of its own (tsx, tsc, worker threads): minutes on a loaded 2-core host, not seconds. */
const it = (name: string, fn: () => unknown) => test(name, fn, 120_000);
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root } from '../service/helpers.ts';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const env = { ...process.env, TROUPE_LOG_LEVEL: 'silent', npm_config_update_notifier: 'false' };
const took: Record<string, number> = {};

async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    took[step] = Math.round(performance.now() - t0);
  }
}

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec(command, args, { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * Troupe as its users get it: packed (the build runs on pack), installed from the tarball into an app outside the
 * repo, imported by name from plain JavaScript and from TypeScript, with worker threads and an LMDB data dir.
 */
describe('the packed package, installed into a fresh app', () => {
  let work: string;
  let app: string;
  let tarball: string;
  let packed: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'troupe-package-'));
    app = join(work, 'app');
    cpSync(join(root, 'test', 'package', 'app'), app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'troupe-user-app', private: true, type: 'module' }));
    const [info] = JSON.parse(await timed('npm pack (build included)', () => run(npm, ['pack', '--json', '--pack-destination', work], root))) as [{ filename: string; files: { path: string }[] }];
    tarball = join(work, info.filename);
    packed = info.files.map((f) => f.path);
    // The tarball's dependencies come from the npm cache the repo's own install filled; the registry only if missing.
    const flags = ['--no-audit', '--no-fund', '--no-package-lock'];
    await timed('npm install <tarball>', () => run(npm, ['install', tarball, '--offline', ...flags], app)
      .catch(() => run(npm, ['install', tarball, '--prefer-offline', ...flags], app)));
  }, 240_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
    console.log(`package test steps (ms): ${JSON.stringify(took)}`);
  });

  it('the tarball holds the compiled package (JavaScript and .d.ts), not the sources or the tests', () => {
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/index.d.ts');
    expect(packed).toContain('dist/runtime/worker.js');
    expect(packed).toContain('dist/ops/index.js');
    expect(packed).toContain('dist/bin/troupe.js');
    expect(packed.filter((p) => /\.ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
    expect(packed.filter((p) => !/^(dist\/|docs\/|README\.md$|package\.json$)/.test(p))).toEqual([]);
  });

  it('plain JavaScript (node app.mjs, no loader): worker threads and a durable actor across two processes', async () => {
    const dataDir = join(work, 'js-data');
    const out = await timed('node app.mjs x2', async () => (await run(process.execPath, ['app.mjs', dataDir, '1'], app)) + (await run(process.execPath, ['app.mjs', dataDir, '2'], app)));
    expect(out).toBe([
      'js run 1: thread 2, journaled deposit-1, balance 10, ops function',
      'js run 2: thread 2, journaled deposit-2, balance 20, ops function',
      '',
    ].join('\n'));
  });

  it('TypeScript under tsx: TypeScript actor modules load on the worker threads, state persists', async () => {
    const dataDir = join(work, 'ts-data');
    const once = (n: string) => run(process.execPath, ['--import', 'tsx', 'app.ts', dataDir, n], app);
    const out = await timed('node --import tsx app.ts x2', async () => (await once('1')) + (await once('2')));
    expect(out).toBe('ts run 1: threads 1 and 2, count 21, doubled 42\nts run 2: threads 1 and 2, count 41, doubled 82\n');
  });

  it('the installed .d.ts type-check the TypeScript app, payload and reply inference included (tsc --noEmit)', async () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        allowImportingTsExtensions: true, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
        skipLibCheck: true, // lmdb's own index.d.ts does not pass as an ES module (TS1203), whoever imports it
      },
      include: ['*.ts'],
    }));
    // One run over app.ts and a copy without its @ts-expect-error directives: app.ts must be clean (each directive
    // is an error, which it would not be were payloads or replies \`any\`), and the copy must fail on exactly those.
    writeFileSync(join(app, 'broken.ts'), readFileSync(join(app, 'app.ts'), 'utf8').replaceAll('// @ts-expect-error', '//'));
    const out = await timed('tsc --noEmit', () => run(process.execPath, [tsc, '-p', '.'], app).then(() => '', (err: { stdout: string }) => err.stdout));
    const errors = out.split('\n').filter((l) => l.includes('error TS'));
    expect(errors.filter((l) => !l.startsWith('broken.ts('))).toEqual([]);
    expect(errors).toHaveLength(3);
    expect(out).toMatch(/broken\.ts\(\d+,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
    expect(out).toMatch(/broken\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
    expect(out).toMatch(/broken\.ts\(\d+,\d+\): error TS2345: Argument of type '"subtract"' is not assignable/);
  });

  it('the installed troupe command runs a JavaScript and a TypeScript system module, each exiting 0 when its run is done', async () => {
    const bin = join(app, 'node_modules', '.bin', 'troupe');
    expect(readdirSync(join(app, 'node_modules', '.bin'))).toContain('troupe');
    const out = await timed('troupe start system.mjs', () => run(bin, ['start', 'system.mjs', '--no-ops', '--workers', '1', '--data-dir', join(work, 'cli-data')], app));
    expect(out).toBe('troupe: bank started (1 worker thread, data in ' + join(work, 'cli-data') + ')\nbank: balance 5\ntroupe: run done: draining (grace 10000 ms)\ntroupe: bank shut down cleanly\n');
    const ts = await timed('troupe start system.ts', () => run(bin, ['start', 'system.ts', '--no-ops', '--workers', '1', '--data-dir', join(work, 'cli-ts-data')], app));
    expect(ts).toBe(`troupe: counting started (1 worker thread, data in ${join(work, 'cli-ts-data')})\n`+'counting: count 2 on thread 1\ntroupe: run done: draining (grace 10000 ms)\ntroupe: counting shut down cleanly\n');
    expect((await run(bin, ['--version'], app)).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
