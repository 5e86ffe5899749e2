'use strict';
// A real n8n for the demo, the editor and the end-to-end tests: installed once into a cached folder that git
// ignores, with this package loaded as a community node the way n8n's own installer does (npm pack, untar into
// <user folder>/.n8n/nodes/node_modules/<name>), and the simulator in its own process.
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = require(path.join(ROOT, 'package.json'));
// The newest n8n that runs on Node 20 is 2.8.4 (2.10 and newer need Node 22+). N8N_VERSION overrides it.
const N8N_VERSION = process.env.N8N_VERSION || '2.8.4';
const CACHE = path.join(ROOT, '.cache', `n8n-${N8N_VERSION}`);
const N8N_BIN = path.join(CACHE, 'node_modules', '.bin', 'n8n');
const EXAMPLES = path.join(ROOT, 'examples');
/** Where the example workflows read and write files, as in n8n's Docker image; the demo maps it to its own folder. */
const EXAMPLE_FILES = '/home/node/.n8n-files';
const CREDENTIAL = { id: 'udSimulatorCred1', name: 'Undetectable AI (simulator)' };

const log = (...a) => console.log(...a);

/** Installs n8n into the cache once (about 6 minutes, 2.3 GB); later runs find it there. */
function ensureN8n() {
	if (fs.existsSync(N8N_BIN) && fs.existsSync(path.join(CACHE, 'installed'))) return N8N_BIN;
	fs.mkdirSync(CACHE, { recursive: true });
	// n8n depends on an xlsx tarball from a CDN this machine cannot reach: the registry's 0.18.5 replaces it.
	// n8n 1.123 pulls isolated-vm 6+, which needs Node 22 to build; 5.0.4 builds on Node 20.
	const overrides = { xlsx: '0.18.5', ...(N8N_VERSION.startsWith('1.') ? { 'isolated-vm': '5.0.4' } : {}) };
	fs.writeFileSync(
		path.join(CACHE, 'package.json'),
		JSON.stringify({ name: 'n8n-runtime', private: true, dependencies: { n8n: N8N_VERSION }, overrides }, null, 2),
	);
	log(`Installing n8n ${N8N_VERSION} into ${path.relative(ROOT, CACHE)} (first run only: about 6 minutes)...`);
	// n8n needs its install scripts (sqlite3 and others); this project's .npmrc turns them off for itself only.
	execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts=false', '--loglevel=error'], { cwd: CACHE, stdio: 'inherit' });
	fs.writeFileSync(path.join(CACHE, 'installed'), new Date().toISOString());
	return N8N_BIN;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

/** A fresh, quiet n8n user folder with this package installed as a community node. */
async function createInstance({ folder, filesDir } = {}) {
	const userFolder = folder ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ud-n8n-'));
	const files = filesDir ?? path.join(userFolder, 'files');
	fs.mkdirSync(files, { recursive: true });
	installPackage(userFolder);
	const env = {
		...process.env,
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: 'undetectable-demo-encryption-key',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
		N8N_RESTRICT_FILE_ACCESS_TO: files,
		N8N_LOG_LEVEL: 'info',
		N8N_SECURE_COOKIE: 'false',
		// Under NODE_ENV=test (jest sets it) the n8n CLI prints nothing, the run's JSON included.
		NODE_ENV: 'production',
	};
	return { userFolder, files, env, cli: (args) => runCli(args, env) };
}

/** What n8n's installer does: npm pack, then untar into .n8n/nodes/node_modules/<package name>. */
function installPackage(userFolder) {
	const nodes = path.join(userFolder, '.n8n', 'nodes');
	const target = path.join(nodes, 'node_modules', PACKAGE.name);
	fs.rmSync(target, { recursive: true, force: true });
	fs.mkdirSync(target, { recursive: true });
	const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-pack-'));
	const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop();
	execFileSync('tar', ['xzf', path.join(packDir, tarball), '-C', target, '--strip-components=1']);
	fs.rmSync(packDir, { recursive: true, force: true });
	fs.writeFileSync(
		path.join(nodes, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { [PACKAGE.name]: PACKAGE.version } }, null, 2),
	);
}

function runCli(args, env) {
	const r = spawnSync(ensureN8n(), args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
	return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The JSON `n8n execute --rawOutput` prints: the block from the first line that is exactly "{" to the first "}". */
function parseRawOutput(stdout) {
	const lines = stdout.split('\n');
	const start = lines.indexOf('{');
	const end = lines.indexOf('}', start);
	if (start < 0 || end < 0) return undefined;
	return JSON.parse(lines.slice(start, end + 1).join('\n'));
}

/** The simulator in its own process. */
function startSimulator(options = {}, env = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(ROOT, 'test', 'simulator', 'serve.js'), JSON.stringify(options)], {
			stdio: ['ignore', 'pipe', 'inherit'],
			env: { ...process.env, ...env },
		});
		child.once('error', reject);
		child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
		child.stdout.once('data', (line) => {
			const urls = JSON.parse(String(line));
			resolve({ ...urls, stop: () => child.kill('SIGTERM') });
		});
	});
}

/** The example workflows, with their file paths moved into `filesDir` and the credential pointed at ours. */
function exampleWorkflows(filesDir) {
	return fs
		.readdirSync(EXAMPLES)
		.filter((f) => f.endsWith('.json'))
		.sort()
		.map((f) => {
			const text = fs.readFileSync(path.join(EXAMPLES, f), 'utf8').split(EXAMPLE_FILES).join(filesDir);
			return { file: f, workflow: JSON.parse(text) };
		});
}

/** Imports a credential (simulator or real API) and the workflows; returns their ids. */
function importAll(instance, credentialData, workflows) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-import-'));
	const credFile = path.join(dir, 'credentials.json');
	fs.writeFileSync(credFile, JSON.stringify([{ ...CREDENTIAL, type: 'undetectableImageApi', data: credentialData }]));
	let r = instance.cli(['import:credentials', `--input=${credFile}`]);
	if (r.status !== 0) throw new Error(`import:credentials failed:\n${r.stdout}\n${r.stderr}`);
	const wfDir = path.join(dir, 'workflows');
	fs.mkdirSync(wfDir);
	for (const { file, workflow } of workflows) fs.writeFileSync(path.join(wfDir, file), JSON.stringify(workflow));
	r = instance.cli(['import:workflow', '--separate', `--input=${wfDir}`]);
	if (r.status !== 0) throw new Error(`import:workflow failed:\n${r.stdout}\n${r.stderr}`);
	fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs one imported workflow; returns n8n's run data (or throws with what n8n printed). */
function execute(instance, id) {
	const r = instance.cli(['execute', `--id=${id}`, '--rawOutput']);
	const data = parseRawOutput(r.stdout);
	if (r.status !== 0 || !data) {
		const e = new Error(`n8n execute ${id} failed (exit ${r.status})`);
		e.output = `${r.stdout}\n${r.stderr}`;
		e.data = data;
		throw e;
	}
	return data;
}

/** The output items of a node in a run, as JSON. */
function nodeOutput(run, nodeName, output = 0) {
	const runs = run.data?.resultData?.runData?.[nodeName] ?? run.resultData?.runData?.[nodeName];
	return (runs?.[0]?.data?.main?.[output] ?? []).map((i) => i.json);
}

module.exports = {
	ROOT,
	N8N_VERSION,
	EXAMPLE_FILES,
	CREDENTIAL,
	ensureN8n,
	createInstance,
	startSimulator,
	exampleWorkflows,
	importAll,
	execute,
	nodeOutput,
	freePort,
};
