import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '../../src/config/config';
import { testServices } from './test-env';

const root = join(__dirname, '..', '..');

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

async function build(dir: string): Promise<void> {
  // What the Dockerfile does: compile src/, then a folder with dist, flows, templates and the
  // package files, and production dependencies only (nothing from the checkout's node_modules).
  await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], root);
  for (const part of ['flows', 'templates', 'package.json', 'package-lock.json']) cpSync(join(root, part), join(dir, part), { recursive: true });
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], dir);
  writeFileSync(join(dir, '.ready'), '');
}

/**
 * The production artifact, built once per test run into the run's scratch folder (a test file
 * that finds another file building it waits). Returns the folder: run `node dist/main.js` there.
 */
export async function productionArtifact(): Promise<string> {
  const dir = join(testServices().scratch, 'artifact');
  try {
    mkdirSync(dir);
  } catch {
    const deadline = Date.now() + 240_000;
    while (!existsSync(join(dir, '.ready'))) {
      if (Date.now() > deadline) throw new Error(`the production artifact in ${dir} was not ready in time`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return dir;
  }
  await build(dir);
  return dir;
}

export interface StartedArtifact {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout so far. */
  output: () => string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

/** Starts `node dist/main.js ROLE` from the artifact, as the image's CMD does, and waits for its URL. */
export async function startArtifact(role: string, env: Environment): Promise<StartedArtifact> {
  const dir = await productionArtifact();
  const child = spawn(process.execPath, ['dist/main.js', role], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...env, NODE_ENV: 'production', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"msg":"http: (http:\/\/[^ "]+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`dist/main.js exited early with ${code}: ${stderr}${stdout}`)));
  });
  return { child, url, output: () => stdout, exited };
}
