'use strict';
// A real n8n for the demo, the editor and the end-to-end tests: installed once into a cached folder that git
// ignores, with this package loaded as a community node the way n8n's own installer does (npm pack, untar into
// <user folder>/.n8n/nodes/node_modules/<name>), and the simulator in its own process.
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const install = require('./install-n8n');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = require(path.join(ROOT, 'package.json'));
// 2.8.4 is the newest n8n that runs on this machine's Node 20; N8N_VERSION picks another (2.10+ run on Node 24,
// which the installer brings).
const N8N_VERSION = process.env.N8N_VERSION || '2.8.4';
const EXAMPLES = path.join(ROOT, 'examples');
/** Where the example workflows read and write files, as in n8n's Docker image; the demo maps it to its own folder. */
const EXAMPLE_FILES = '/home/node/.n8n-files';
const CREDENTIAL = { id: 'udSimulatorCred1', name: 'Undetectable AI (simulator)' };
/** How long one n8n CLI call may take before it is killed and reported (a hang is a failure, not a stuck run). */
const CLI_TIMEOUT_MS = Number(process.env.N8N_CLI_TIMEOUT_MS || 180_000);

/** Installs n8n N8N_VERSION into the cache outside the repository once; returns its `n8n` command. */
const ensureN8n = () => install.ensureN8n(N8N_VERSION);

/** A user folder outside the repository, so the installed package resolves n8n's own n8n-workflow, as it would. */
function userFolderFor(name) {
	const folder = path.join(install.CACHE_ROOT, 'instances', name);
	if (path.relative(ROOT, folder).split(path.sep)[0] !== '..') throw new Error(`${folder} lies inside the repository`);
	return folder;
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

/** Temporary user folders of this process, removed when it exits (a test's n8n instance holds a few MB). */
const temporaryFolders = [];
function temporaryFolder(prefix) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	if (!temporaryFolders.length) process.once('exit', () => temporaryFolders.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
	temporaryFolders.push(dir);
	return dir;
}

/** A fresh, quiet n8n user folder with this package installed as a community node. */
async function createInstance({ folder, filesDir } = {}) {
	const userFolder = folder ?? temporaryFolder('ud-n8n-');
	if (path.relative(ROOT, userFolder).split(path.sep)[0] !== '..') throw new Error(`The n8n user folder ${userFolder} lies inside the repository`);
	const files = filesDir ?? path.join(userFolder, 'files');
	fs.mkdirSync(files, { recursive: true });
	installPackage(userFolder);
	const env = {
		...install.nodeEnv(N8N_VERSION),
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
	return { userFolder, files, env, cli: (args, timeoutMs) => runCli(args, env, timeoutMs) };
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

/**
 * Runs the n8n CLI in its own process group; after `timeoutMs` the whole group (n8n and its task runner) is killed
 * and the result says so, with what n8n printed until then.
 */
function runCli(args, env, timeoutMs = CLI_TIMEOUT_MS) {
	const bin = ensureN8n();
	return new Promise((resolve) => {
		const child = spawn(bin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
		const out = { stdout: '', stderr: '' };
		child.stdout.on('data', (d) => (out.stdout += d));
		child.stderr.on('data', (d) => (out.stderr += d));
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child.pid);
		}, timeoutMs);
		const finish = (status, error) => {
			clearTimeout(timer);
			killGroup(child.pid); // a task runner left behind would keep ports and CPU
			resolve({ status, timedOut, timeoutMs, stdout: out.stdout, stderr: out.stderr + (error ? `\n${error.message}` : '') });
		};
		child.once('error', (error) => finish(null, error));
		child.once('close', (code) => finish(code));
	});
}

function killGroup(pid) {
	try {
		process.kill(-pid, 'SIGKILL');
	} catch (error) {
		if (error.code !== 'ESRCH') throw error; // already gone
	}
}

/** An error for a CLI call that failed or hung, with the tail of what it printed. */
function cliError(what, r) {
	const why = r.timedOut ? `was killed after ${r.timeoutMs / 1000} s without finishing` : `failed (exit ${r.status})`;
	const e = new Error(`n8n ${N8N_VERSION}: ${what} ${why}`);
	e.output = `${r.stdout}\n${r.stderr}`.split('\n').slice(-60).join('\n');
	return e;
}

/** The JSON `n8n execute --rawOutput` prints: the block from the first line that is exactly "{" to the first "}". */
function parseRawOutput(stdout) {
	const lines = stdout.split('\n');
	const start = lines.indexOf('{');
	const end = lines.indexOf('}', start);
	if (start < 0 || end < 0) return undefined;
	return JSON.parse(lines.slice(start, end + 1).join('\n'));
}

/**
 * A command from one of Debian's packages (redis-server, chromium), installed with apt-get when missing: CI runs
 * on a fresh machine as root. Returns the command's path.
 */
function ensureDebianPackage(command, pkg) {
	const which = () => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
	if (which().status === 0) return which().stdout.trim();
	const apt = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
	if (apt(['install', '-y', '-qq', pkg]).status !== 0) {
		apt(['update', '-qq']);
		if (apt(['install', '-y', '-qq', pkg]).status !== 0) throw new Error(`Could not install ${pkg} (apt-get install ${pkg})`);
	}
	return which().stdout.trim();
}

/** A process in its own group, with its output kept (and its lines offered to `onLine`); `kill` ends the group. */
function startProcess(command, args, env, onLine = () => {}) {
	const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	const proc = { child, pid: child.pid, output: '', exited: false };
	const take = (chunk) => {
		proc.output += chunk;
		for (const line of String(chunk).split('\n')) if (line) onLine(line);
	};
	child.stdout.on('data', take);
	child.stderr.on('data', take);
	proc.done = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
	child.once('exit', () => (proc.exited = true));
	proc.kill = (signal = 'SIGTERM') => {
		if (proc.exited) return;
		try {
			process.kill(-child.pid, signal);
		} catch (error) {
			if (error.code !== 'ESRCH') throw error;
		}
	};
	/** SIGTERM, then SIGKILL to the whole group if it is not gone within `graceMs`. */
	proc.stop = async (graceMs = 10_000) => {
		proc.kill('SIGTERM');
		const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
		await proc.done;
		clearTimeout(timer);
		killGroup(child.pid); // the task runner, should it outlive n8n
	};
	return proc;
}

/** Polls `check` until it gives a truthy value (returned), or fails after `ms` saying what it waited for. */
async function until(what, check, ms, everyMs = 300) {
	const end = Date.now() + ms;
	for (;;) {
		const value = await check().catch(() => undefined);
		if (value) return value;
		if (Date.now() > end) throw new Error(`Timed out after ${ms / 1000} s waiting for ${what}`);
		await new Promise((r) => setTimeout(r, everyMs));
	}
}

/** Makes imported workflows active, the way this n8n version does it (publish:workflow in 2.x). */
async function activate(instance, ids) {
	for (const id of ids) {
		const args = N8N_VERSION.startsWith('1.') ? ['update:workflow', `--id=${id}`, '--active=true'] : ['publish:workflow', `--id=${id}`];
		const r = await instance.cli(args);
		if (r.status !== 0) throw cliError(args[0], r);
	}
}

/**
 * `n8n start` for an instance, on a free port (or `port`), in its own process group: resolves once the REST API
 * answers, with its base URL and `stop()`. With `owner`, the owner account is set up so a browser can log in.
 */
async function startServer(instance, { port, env = {}, owner } = {}) {
	const listenPort = port ?? (await freePort());
	const proc = startProcess(ensureN8n(), ['start'], { ...instance.env, N8N_PORT: String(listenPort), N8N_LISTEN_ADDRESS: '127.0.0.1', ...env });
	const base = `http://127.0.0.1:${listenPort}`;
	try {
		await until(`n8n ${N8N_VERSION} to answer at ${base}`, async () => !proc.exited && (await fetch(`${base}/healthz`)).ok, 180_000);
		await until('its REST API', async () => (await fetch(`${base}/rest/settings`)).ok, 60_000);
		// Seen once on 2.41.1: /rest/settings answered while /rest/login was still "Cannot POST" (404). Ready is
		// when the login route is there too (an empty login is refused, not unknown).
		await until('its login route', async () => !proc.exited && (await fetch(`${base}/rest/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status !== 404, 60_000);
		if (proc.exited) throw new Error(`n8n ${N8N_VERSION} exited while starting`);
		if (owner) {
			const r = await fetch(`${base}/rest/owner/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(owner) });
			// A second start of the same folder has its owner already.
			if (!r.ok && r.status !== 400) throw new Error(`owner setup answered ${r.status}: ${await r.text()}`);
		}
	} catch (error) {
		await proc.stop(2000);
		error.message += `\nWhat n8n printed last:\n${proc.output.split('\n').slice(-40).join('\n')}`;
		throw error;
	}
	return { base, port: listenPort, proc, stop: () => proc.stop() };
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
async function importAll(instance, credentialData, workflows) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-import-'));
	const credFile = path.join(dir, 'credentials.json');
	fs.writeFileSync(credFile, JSON.stringify([{ ...CREDENTIAL, type: 'undetectableImageApi', data: credentialData }]));
	let r = await instance.cli(['import:credentials', `--input=${credFile}`]);
	if (r.status !== 0) throw cliError('import:credentials', r);
	const wfDir = path.join(dir, 'workflows');
	fs.mkdirSync(wfDir);
	for (const { file, workflow } of workflows) fs.writeFileSync(path.join(wfDir, file), JSON.stringify(workflow));
	r = await instance.cli(['import:workflow', '--separate', `--input=${wfDir}`]);
	if (r.status !== 0) throw cliError('import:workflow', r);
	fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs one imported workflow; returns n8n's run data (or throws with what n8n printed). */
async function execute(instance, id, timeoutMs) {
	const r = await instance.cli(['execute', `--id=${id}`, '--rawOutput'], timeoutMs);
	const data = r.timedOut ? undefined : parseRawOutput(r.stdout);
	if (r.status !== 0 || !data) {
		const e = cliError(`execute --id=${id}`, r);
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
	ensureDebianPackage,
	startProcess,
	until,
	activate,
	startServer,
	cliError,
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
	userFolderFor,
	killGroup,
};

/** Imports more credentials of any type (an array of {id, name, type, data}), beside the one importAll brings. */
async function importCredentials(instance, credentials) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-import-'));
	const file = path.join(dir, 'credentials.json');
	fs.writeFileSync(file, JSON.stringify(credentials));
	try {
		const r = await instance.cli(['import:credentials', `--input=${file}`]);
		if (r.status !== 0) throw cliError('import:credentials', r);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

Object.assign(module.exports, { importCredentials });

/**
 * The CLI of an instance with some of its environment changed: while `n8n start` runs on the instance, a CLI call
 * needs a task broker port of its own (each n8n process starts a broker).
 */
function cliWith(instance, env) {
	const merged = { ...instance.env, ...env };
	return { ...instance, env: merged, cli: (args, timeoutMs) => runCli(args, merged, timeoutMs) };
}

/** Logs in to a started n8n (`startServer` with `owner`) as the owner; returns the session cookie for REST calls. */
async function login(base, owner) {
	const r = await fetch(`${base}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ emailOrLdapLoginId: owner.email, password: owner.password }),
	});
	if (!r.ok) throw new Error(`Logging in to ${base} as ${owner.email} answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
	const cookie = (r.headers.getSetCookie?.() ?? [r.headers.get('set-cookie')]).map((c) => String(c).split(';')[0]).join('; ');
	if (!cookie) throw new Error(`Logging in to ${base} set no session cookie`);
	return cookie;
}

/**
 * A saved execution as n8n's REST API gives it (what the editor's execution view shows), with its run data
 * unflattened by n8n's own `flatted`: `{ id, status, finished, data: { resultData: { runData } } }`, so
 * `nodeOutput(execution, name)` reads it as it reads a CLI run.
 */
async function savedExecution(base, cookie, id) {
	const r = await fetch(`${base}/rest/executions/${id}`, { headers: { cookie } });
	if (!r.ok) throw new Error(`GET /rest/executions/${id} answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
	const execution = (await r.json()).data;
	if (!execution) throw new Error(`n8n has no execution ${id} (is saving production executions off?)`);
	if (typeof execution.data === 'string') {
		const flatted = require(path.join(install.layout(N8N_VERSION).dir, 'node_modules', 'flatted'));
		execution.data = flatted.parse(execution.data);
	}
	return execution;
}

Object.assign(module.exports, { cliWith, login, savedExecution });
