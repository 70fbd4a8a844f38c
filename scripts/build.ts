/**
 * `npm run build`: every handler in src/handlers/*.ts bundled to dist/<name>/<name>.mjs with the settings of
 * the template's esbuild Metadata (ESM, minified, tree-shaken, es2022, source maps, mainFields module,main),
 * plus what SAM's esbuild builder cannot express: aliases of two SDK modules a Lambda never runs,
 * `@aws-sdk/credential-provider-node` → an environment-only provider (src/commons/lambda-credential-provider.ts)
 * and `@smithy/core/event-streams` → a stub that throws (src/commons/no-event-streams.ts), see there for why;
 * and SDK package.json files cut to name + version (slimSdkManifests).
 *
 *   tsx scripts/build.ts [--entry vend] [--outdir dir] [--no-alias] [--metafile]
 *   tsx scripts/build.ts --cli [--outdir dir]     (the CLI, see buildCli; `npm install` runs it as `prepare`)
 *
 * SAM runs this through `BuildMethod: makefile` (Makefile target build-<FunctionLogicalId>), so a deployed
 * bundle and a locally measured one come from the same code.
 */
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const HANDLERS_DIR = join(ROOT, 'src', 'handlers');
export const CREDENTIAL_PROVIDER_SHIM = join(ROOT, 'src', 'commons', 'lambda-credential-provider.ts');
export const EVENT_STREAMS_SHIM = join(ROOT, 'src', 'commons', 'no-event-streams.ts');

/** Node ESM has no `require`; a CommonJS dependency that calls it for a builtin gets one back. */
export const REQUIRE_SHIM =
  "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

export const handlerNames = (): string[] =>
  readdirSync(HANDLERS_DIR)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => basename(file, '.ts'))
    .sort();

/**
 * Each SDK client imports its whole package.json only to put `version` in the User-Agent; a JSON default
 * import cannot be tree-shaken, so every client carried ~2 KB of manifest. Keep just name and version.
 */
export const slimSdkManifests: Plugin = {
  name: 'slim-sdk-manifests',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/ },
      async (args) => {
        const { name, version } = JSON.parse(await readFile(args.path, 'utf8')) as {
          name: string;
          version: string;
        };
        return { contents: JSON.stringify({ name, version }), loader: 'json' };
      },
    );
  },
};

export interface HandlerBuild {
  readonly entry: string;
  readonly outdir: string;
  /** Alias the SDK's default credential chain to the env-only provider (default true). */
  readonly aliasCredentialProvider?: boolean;
  /** mainFields; `module,main` takes the ESM builds first (docs/design.md, "The vend function has its own build"). */
  readonly mainFields?: readonly string[];
  readonly metafile?: boolean;
}

/** What every bundle shares, the handlers' and the CLI's: one ESM file for Node, minified. */
const BUNDLE_BASE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'es2022',
  minify: true,
  treeShaking: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [slimSdkManifests],
} as const satisfies BuildOptions;

export const buildOptions = (options: HandlerBuild): BuildOptions => ({
  ...BUNDLE_BASE,
  entryPoints: { [options.entry]: join(HANDLERS_DIR, `${options.entry}.ts`) },
  outdir: options.outdir,
  sourcemap: true,
  mainFields: [...(options.mainFields ?? ['module', 'main'])],
  outExtension: { '.js': '.mjs' },
  banner: { js: REQUIRE_SHIM },
  metafile: options.metafile ?? false,
  ...(options.aliasCredentialProvider === false
    ? {}
    : {
        alias: {
          '@aws-sdk/credential-provider-node': CREDENTIAL_PROVIDER_SHIM,
          '@smithy/core/event-streams': EVENT_STREAMS_SHIM,
        },
      }),
});

export const buildHandler = async (options: HandlerBuild) => {
  mkdirSync(options.outdir, { recursive: true });
  return build(buildOptions(options));
};

export const CLI_ENTRY = join(ROOT, 'src', 'cli', 'main.ts');
export const CLI_FILE_NAME = 'sentinel-sessions.mjs';

/**
 * The `sentinel-sessions` CLI as one executable file (package.json `bin`): the handlers' settings, less what
 * only suits a Lambda. Nothing is aliased, because the CLI needs the SDK's real default credential chain
 * (named profiles, SSO, credential_process); no source map, so that the bin stays a single file.
 */
export const cliBuildOptions = (outdir: string): BuildOptions => ({
  ...BUNDLE_BASE,
  entryPoints: [CLI_ENTRY],
  outfile: join(outdir, CLI_FILE_NAME),
  sourcemap: false,
  mainFields: ['module', 'main'],
  banner: { js: `#!/usr/bin/env node\n${REQUIRE_SHIM}` },
});

/** Builds the CLI to `<outdir>/sentinel-sessions.mjs` (default dist/cli), executable. */
export const buildCli = async (outdir: string = join(ROOT, 'dist', 'cli')) => {
  mkdirSync(outdir, { recursive: true });
  const result = await build(cliBuildOptions(outdir));
  chmodSync(join(outdir, CLI_FILE_NAME), 0o755);
  return result;
};

const main = async (): Promise<void> => {
  const args = process.argv.slice(2);
  const usage =
    'usage: tsx scripts/build.ts [--entry <handler>] [--outdir <dir>] [--no-alias] [--metafile] | --cli [--outdir <dir>]';
  const value = (flag: string): string | undefined => {
    const index = args.indexOf(flag);
    if (index < 0) return undefined;
    const given = args[index + 1];
    if (given === undefined || given.startsWith('--')) throw new Error(`${flag} needs a value\n${usage}`);
    return given;
  };
  const known = new Set(['--entry', '--outdir', '--no-alias', '--metafile', '--cli']);
  args.forEach((arg, i) => {
    const isValue = i > 0 && ['--entry', '--outdir'].includes(args[i - 1] ?? '');
    if (!isValue && !known.has(arg)) throw new Error(`unknown argument ${arg}\n${usage}`);
  });
  const only = value('--entry');
  const outdir = value('--outdir');
  if (args.includes('--cli')) {
    if (only !== undefined || args.includes('--no-alias') || args.includes('--metafile')) {
      throw new Error(`--cli takes only --outdir\n${usage}`);
    }
    const target = outdir ?? join(ROOT, 'dist', 'cli');
    await buildCli(target);
    process.stderr.write(`built the CLI → ${join(target, CLI_FILE_NAME)}\n`);
    return;
  }
  if (only !== undefined && !handlerNames().includes(only)) {
    throw new Error(`no handler src/handlers/${only}.ts (have: ${handlerNames().join(', ')})\n${usage}`);
  }
  const entries = only ? [only] : handlerNames();
  for (const entry of entries) {
    const target = outdir ?? join(ROOT, 'dist', entry);
    const result = await buildHandler({
      entry,
      outdir: target,
      aliasCredentialProvider: !args.includes('--no-alias'),
      metafile: args.includes('--metafile'),
    });
    if (result.metafile) writeFileSync(join(target, `${entry}.meta.json`), JSON.stringify(result.metafile));
    process.stderr.write(`built ${entry} → ${join(target, `${entry}.mjs`)}\n`);
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  });
}
