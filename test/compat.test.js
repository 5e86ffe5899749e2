'use strict';
// The node against every n8n-workflow it claims, not only the one in our devDependencies: an installed community
// package runs against n8n's own copy (n8n strips peerDependencies). n8n-workflow 2.34 removed `sleepWithAbort`,
// and a node that imported it hung on every current n8n while every engine test here was green.
//   oldest: 1.120.31 (n8n 1.123), newest: 2.41.0 (n8n 2.41); the current 2.8.0 is what the build and the engine
//   tests use.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const VARIANTS = { oldest: 'n8n-workflow-oldest', current: 'n8n-workflow', newest: 'n8n-workflow-newest' };
const POLLER = path.join(ROOT, 'dist/nodes/UndetectableImage/api/poller.js');
const PAUSE = path.join(ROOT, 'dist/nodes/UndetectableImage/helpers/pause.js');

/**
 * The sources type-checked against the oldest and the newest variant in one tsc program (parsing TypeScript's own
 * libraries and @types/node once): a throw-away tree holds a view of the sources per variant (symlinks), each with
 * `n8n-workflow` in its own node_modules, so an import resolves to that view's variant. It lives under this
 * repository's node_modules, so that the variants' own dependencies resolve as they do here. Started when this file
 * loads; each test reads its variant's part of the output.
 */
function typeCheckViews(variants) {
	const dir = fs.mkdtempSync(path.join(ROOT, 'node_modules', '.ud-compat-'));
	for (const [variant, pkg] of variants) {
		fs.mkdirSync(path.join(dir, variant, 'node_modules'), { recursive: true });
		for (const sources of ['nodes', 'credentials']) fs.symlinkSync(path.join(ROOT, sources), path.join(dir, variant, sources));
		fs.symlinkSync(path.join(ROOT, 'node_modules', pkg), path.join(dir, variant, 'node_modules', 'n8n-workflow'));
	}
	const config = path.join(dir, 'tsconfig.json');
	fs.writeFileSync(
		config,
		JSON.stringify({
			extends: path.join(ROOT, 'tsconfig.json'),
			compilerOptions: { noEmit: true, preserveSymlinks: true, typeRoots: [path.join(ROOT, 'node_modules/@types')] },
			include: variants.flatMap(([variant]) => [`${variant}/nodes/**/*.ts`, `${variant}/credentials/**/*.ts`]),
		}),
	);
	return new Promise((resolve) => {
		const tsc = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { cwd: dir });
		let output = '';
		tsc.stdout.on('data', (d) => (output += d));
		tsc.stderr.on('data', (d) => (output += d));
		tsc.once('close', (status) => {
			fs.rmSync(dir, { recursive: true, force: true });
			resolve({ status, output });
		});
	});
}
// The current one is what `npm run build` (the first step of `npm test`) compiles against, and what the engine
// tests run against: it is not checked again here.
const CHECKED = Object.entries(VARIANTS).filter(([variant]) => variant !== 'current');
const typeCheck = typeCheckViews(CHECKED);

describe.each(CHECKED)('n8n-workflow %s (%s)', (variant, pkg) => {
	const version = require(`${pkg}/package.json`).version;

	test(`the sources type-check against it (${version})`, async () => {
		const tsc = await typeCheck;
		// tsc names each error's file: the lines of this variant's view are its errors.
		const errors = tsc.output.split('\n').filter((line) => line.startsWith(`${variant}/`));
		expect(errors).toEqual([]);
		// Nothing else went wrong either: no error outside the views (the throw-away config), and tsc says what it
		// found by its exit code too.
		expect(tsc.output.split('\n').filter((line) => /error TS/.test(line) && !CHECKED.some(([v]) => line.startsWith(`${v}/`)))).toEqual([]);
		expect(tsc.status === 0).toBe(tsc.output.trim() === '');
	}, 60_000);

	/** The built modules, loaded with `n8n-workflow` resolving to this variant (as n8n's own copy would). */
	let actual; // the variant itself, loaded once (it is large); the node's modules are loaded anew for each test
	function load(overrides = {}) {
		actual ??= jest.requireActual(pkg);
		let modules;
		jest.isolateModules(() => {
			jest.doMock('n8n-workflow', () => ({ ...actual, ...overrides }));
			modules = { ...require(PAUSE), ...require(POLLER) };
		});
		jest.dontMock('n8n-workflow');
		return modules;
	}

	test('pause waits, and ends early when its signal fires', async () => {
		const { pause } = load();
		let started = Date.now();
		await pause(120);
		expect(Date.now() - started).toBeGreaterThanOrEqual(100);

		const controller = new AbortController();
		started = Date.now();
		const paused = pause(10_000, controller.signal);
		setTimeout(() => controller.abort(new Error('woken')), 30);
		await paused;
		expect(Date.now() - started).toBeLessThan(1000);
	});

	test('the poller waits for a document and hands back its answer', async () => {
		const { Poller } = load();
		let queries = 0;
		const poller = new Poller(async () => (++queries >= 3 ? { id: 'a', status: 'done' } : { id: 'a', status: 'pending' }));
		const outcome = await poller.wait({ id: 'a', phase: 'result', isFinished: (a) => a?.status === 'done', deadline: Date.now() + 10_000, immediate: true });
		expect(outcome).toEqual({ answer: { id: 'a', status: 'done' }, timedOut: false });
		expect(queries).toBe(3);
	});

	test('a poller that cannot sleep fails the wait at once instead of spinning', async () => {
		const broken = () => {
			throw new TypeError('sleep is not a function');
		};
		const { Poller } = load({ sleep: broken, sleepWithAbort: broken });
		let queries = 0;
		const poller = new Poller(async () => {
			queries++;
			return { id: 'a', status: 'pending' };
		});
		const started = Date.now();
		await expect(
			poller.wait({ id: 'a', phase: 'result', isFinished: (a) => a?.status === 'done', deadline: Date.now() + 60_000, submittedAt: Date.now() }),
		).rejects.toThrow('sleep is not a function');
		expect(Date.now() - started).toBeLessThan(1000);
		expect(queries).toBe(0);
	});
});
