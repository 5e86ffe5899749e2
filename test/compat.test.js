'use strict';
// The node against every n8n-workflow it claims, not only the one in our devDependencies: an installed community
// package runs against n8n's own copy (n8n strips peerDependencies). n8n-workflow 2.34 removed `sleepWithAbort`,
// and a node that imported it hung on every current n8n while every engine test here was green.
//   oldest: 1.120.31 (n8n 1.123), current: 2.8.0 (n8n 2.8, our engine tests), newest: 2.41.0 (n8n 2.41).
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const VARIANTS = { oldest: 'n8n-workflow-oldest', current: 'n8n-workflow', newest: 'n8n-workflow-newest' };
const POLLER = path.join(ROOT, 'dist/nodes/UndetectableImage/api/poller.js');
const PAUSE = path.join(ROOT, 'dist/nodes/UndetectableImage/helpers/pause.js');

describe.each(Object.entries(VARIANTS))('n8n-workflow %s (%s)', (variant, pkg) => {
	const version = require(`${pkg}/package.json`).version;

	// The current one is what `npm run build` (the first step of `npm test`) compiles against: checked there already.
	if (variant !== 'current') test(`the sources type-check against it (${version})`, () => {
		// A throw-away tsconfig that maps `n8n-workflow` to this variant; the project's own options and files.
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-compat-'));
		const config = path.join(dir, 'tsconfig.json');
		fs.writeFileSync(
			config,
			JSON.stringify({
				extends: path.join(ROOT, 'tsconfig.json'),
				compilerOptions: { noEmit: true, baseUrl: ROOT, paths: { 'n8n-workflow': [`node_modules/${pkg}`] }, typeRoots: [path.join(ROOT, 'node_modules/@types')] },
			}),
		);
		const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { cwd: ROOT, encoding: 'utf8' });
		fs.rmSync(dir, { recursive: true, force: true });
		expect(tsc.stdout + tsc.stderr).toBe('');
		expect(tsc.status).toBe(0);
	}, 60_000);

	/** The built modules, loaded with `n8n-workflow` resolving to this variant (as n8n's own copy would). */
	function load(overrides = {}) {
		let modules;
		jest.isolateModules(() => {
			jest.doMock('n8n-workflow', () => ({ ...jest.requireActual(pkg), ...overrides }));
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
