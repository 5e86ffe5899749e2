#!/usr/bin/env node
'use strict';
// The benchmark (npm run bench): the node through n8n's engine against the simulator with realistic timing
// (a result 1.5 s after submission, the heatmap 1 s later), measured side by side in one run.
// The simulator runs in its own process, so its memory and CPU do not count against the node's.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { getEngine, useTiming, PRODUCTION } = require('../test/harness/engine');
const { image, zipOf } = require('../test/harness/fixtures');

const TIMING = { startMs: 200, resultMs: 1500, heatmapMs: 1000, analysisMs: 2000, perImageMs: 30 };
const N = 50;
const RESULT_S = TIMING.resultMs / 1000;

function startSim(options = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(__dirname, '..', 'test', 'simulator', 'serve.js'), JSON.stringify({ timing: TIMING, ...options })], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		child.once('error', reject);
		child.stdout.once('data', (line) => {
			const urls = JSON.parse(String(line));
			resolve({
				...urls,
				stats: async () => (await fetch(`${urls.adminUrl}/stats`)).json(),
				stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))),
			});
		});
	});
}

const items = (n, size = 1500, seed = 0) =>
	Array.from({ length: n }, (_, k) => ({
		json: {},
		binary: { data: { bytes: () => image.jpeg(size, seed + k), fileName: `img-${k}.jpg`, mimeType: 'image/jpeg' } },
	}));

/** The same images as emails: `perItem` attachments (attachment_0, ...) on each item, as the Gmail/IMAP triggers give. */
const emails = (n, perItem, size = 1500, seed = 0) =>
	Array.from({ length: n / perItem }, (_, m) => ({
		json: { subject: `mail ${m}` },
		binary: Object.fromEntries(
			Array.from({ length: perItem }, (_, a) => {
				const k = m * perItem + a;
				return [`attachment_${a}`, { bytes: () => image.jpeg(size, seed + k), fileName: `img-${k}.jpg`, mimeType: 'image/jpeg' }];
			}),
		),
	}));

async function runNode(sim, parameters, input) {
	const engine = await getEngine();
	const started = Date.now();
	const r = await engine.run({ parameters, items: input, credentials: { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl } });
	const seconds = (Date.now() - started) / 1000;
	if (r.error) throw new Error(`node failed: ${r.error.message}`);
	return { seconds, items: r.items };
}

/** /query calls per image, and how long after its result was ready the node saw it (first /query after done). */
function pollingFigures(stats) {
	const singles = stats.docs.filter((d) => !d.parent);
	const queries = singles.reduce((n, d) => n + d.queries.length, 0) / singles.length;
	const lags = singles.map((d) => d.queries.find((t) => t >= d.doneAt) - d.doneAt).sort((a, b) => a - b);
	// All /query calls, the one before each upload (Reuse Earlier Result: is this image known?) included.
	const allQueries = (stats.requests['api POST /query'] ?? 0) / singles.length;
	return { queriesPerImage: queries, allQueriesPerImage: allQueries, medianLagMs: lags[Math.floor(lags.length / 2)] };
}

/** What a naive node or a do-it-yourself HTTP loop does: one image after another, polling every 2 s. */
async function sequentialClient(sim, n) {
	const started = Date.now();
	for (let k = 0; k < n; k++) {
		const name = `seq-${k}.jpg`;
		const pre = await (await fetch(`${sim.apiUrl}/get-presigned-url?file_name=${name}`, { headers: { apikey: sim.key } })).json();
		await fetch(pre.presigned_url, { method: 'PUT', body: image.jpeg(1500, 5000 + k), headers: { 'Content-Type': 'image/jpeg', 'x-amz-acl': 'private' } });
		const post = (p, body) => fetch(`${sim.apiUrl}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
		const { id } = await post('/detect', { key: sim.key, url: `${sim.storageUrl}/${pre.file_path}` });
		for (;;) {
			await new Promise((r) => setTimeout(r, 2000));
			const q = await post('/query', { id });
			if (q.status === 'done' || q.status === 'failed') break;
		}
	}
	return (Date.now() - started) / 1000;
}

async function memoryOfBulk() {
	const sim = await startSim();
	const size = 2_000_000;
	const input = items(N, size, 9000);
	const { growthMB, result } = await peakGrowthMB(() => runNode(sim, { resource: 'image', operation: 'bulkDetect', bulkSource: 'items' }, input));
	await sim.stop();
	return { payloadMB: (N * size) / 1e6, growthMB, seconds: result.seconds };
}

/** Peak growth of heap + external (Buffers) while `task` runs, sampled every 5 ms. */
async function peakGrowthMB(task) {
	global.gc?.();
	const base = process.memoryUsage();
	const baseline = base.heapUsed + base.external;
	let peak = baseline;
	const sampler = setInterval(() => {
		const m = process.memoryUsage();
		peak = Math.max(peak, m.heapUsed + m.external);
	}, 5);
	const result = await task();
	clearInterval(sampler);
	return { growthMB: (peak - baseline) / 1e6, result };
}

/**
 * Bulk Detect from ZIP files: five ZIPs of 20 images of 2 MB (40 MB each) at concurrency 5. The ZIPs are written
 * to disk first and reach n8n as file streams, so the figure is the node's own memory, not the test's.
 */
async function memoryOfZipSource() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bench-zips-'));
	const files = Array.from({ length: 5 }, (_, z) => {
		const file = path.join(dir, `batch-${z}.zip`);
		fs.writeFileSync(file, zipOf(Array.from({ length: 20 }, (_, k) => ({ name: `z${z}-${k}.jpg`, data: image.jpeg(2_000_000, 20_000 + z * 100 + k) })), { store: true }));
		return file;
	});
	const zips = files.map((file) => ({ json: {}, binary: { data: { bytes: () => fs.createReadStream(file), fileName: path.basename(file), mimeType: 'application/zip' } } }));
	const sim = await startSim();
	const { growthMB, result } = await peakGrowthMB(() => runNode(sim, { resource: 'image', operation: 'bulkDetect', bulkSource: 'zip', options: { concurrency: 5 } }, zips));
	await sim.stop();
	fs.rmSync(dir, { recursive: true, force: true });
	return { payloadMB: 5 * 20 * 2, zipMB: 40, growthMB, seconds: result.seconds };
}

const fmt = (x, d = 2) => x.toFixed(d);

async function main() {
	console.log(`Benchmark: ${N} images, simulator timing ${JSON.stringify(TIMING)}, Node ${process.version}\n`);
	await getEngine();
	// The harness shortens the node's schedule for the tests; the benchmark measures the real one.
	useTiming(PRODUCTION);

	const results = {};
	for (const concurrency of [5, 10]) {
		const sim = await startSim();
		// The score alone (Wait for Analysis off), against the floor of the service's 1.5 s per round.
		const run = await runNode(sim, { resource: 'image', operation: 'detect', options: { concurrency, waitForAnalysis: false } }, items(N, 1500, concurrency * 1000));
		const stats = await sim.stats();
		results[concurrency] = { ...run, ...pollingFigures(stats), requests: stats.total };
		if (concurrency === 5) {
			// The same 50 images again: found by their derived document IDs, not uploaded or paid for again.
			const rerun = await runNode(sim, { resource: 'image', operation: 'detect', options: { concurrency, waitForAnalysis: false } }, items(N, 1500, concurrency * 1000));
			const after = await sim.stats();
			const count = (route) => (after.requests[route] ?? 0) - (stats.requests[route] ?? 0);
			results.rerun = {
				seconds: rerun.seconds,
				credits: Object.values(stats.credits)[0] - Object.values(after.credits)[0],
				uploads: count('storage PUT /uploads/...'),
				queriesPerImage: count('api POST /query') / N,
				reused: rerun.items.filter((i) => i.json.reused === true).length,
			};
		}
		await sim.stop();
	}

	// Detect with Download Heatmap: the score and the heatmap (made heatmapMs after it) in one wait, then the file.
	const heatmapSim = await startSim();
	// The analysis (made after the heatmap here) is not waited for: this measures the heatmap's own wait and file.
	const heatmap = await runNode(heatmapSim, { resource: 'image', operation: 'detect', options: { concurrency: 5, downloadHeatmap: true, waitForAnalysis: false } }, items(N, 1500, 3000));
	const heatmapStats = await heatmapSim.stats();
	results.heatmap = { ...heatmap, ...pollingFigures(heatmapStats) };
	await heatmapSim.stop();

	// The defaults: the analysis Detect asks for is waited for (made analysisMs after the score).
	const defaultsSim = await startSim();
	results.defaults = await runNode(defaultsSim, { resource: 'image', operation: 'detect' }, items(N, 1500, 11000));
	await defaultsSim.stop();

	// The same work as 10 emails of 5 attachments, "Every Image of the Item": files are units just as items are.
	const filesSim = await startSim();
	results.files = await runNode(filesSim, { resource: 'image', operation: 'detect', inputFiles: 'allImages', options: { waitForAnalysis: false } }, emails(N, 5, 1500, 13000));
	await filesSim.stop();

	const bulkSim = await startSim();
	const bulk = await runNode(bulkSim, { resource: 'image', operation: 'bulkDetect', bulkSource: 'items' }, items(N, 1500, 7000));
	const bulkStats = await bulkSim.stats();
	await bulkSim.stop();

	const seqSim = await startSim();
	const sequential = await sequentialClient(seqSim, N);
	await seqSim.stop();

	const memory = await memoryOfBulk();
	const zipMemory = await memoryOfZipSource();

	const floor = (c, seconds = RESULT_S) => Math.ceil(N / c) * seconds;
	const heatmapFloor = floor(5, (TIMING.resultMs + TIMING.heatmapMs) / 1000);
	const analysisFloor = floor(5, (TIMING.resultMs + TIMING.analysisMs) / 1000);
	const rows = [
		['this node, concurrency 5, score only', results[5].seconds],
		['this node, concurrency 10, score only', results[10].seconds],
		['sequential client, polls every 2 s', sequential],
		['floor at concurrency 5: ceil(50/5) x 1.5 s', floor(5)],
		['floor at concurrency 10: ceil(50/10) x 1.5 s', floor(10)],
		['this node, concurrency 5, Download Heatmap (no analysis)', results.heatmap.seconds],
		['floor with heatmap: ceil(50/5) x (1.5 + 1.0) s', heatmapFloor],
		['this node, defaults (waits for the analysis)', results.defaults.seconds],
		['floor with analysis: ceil(50/5) x (1.5 + 2.0) s', analysisFloor],
		['10 emails x 5 attachments, every image, c 5', results.files.seconds],
		['bulk from items (one request for 50)', bulk.seconds],
	];
	console.log('Wall time for 50 images');
	for (const [name, s] of rows) console.log(`  ${name.padEnd(54)} ${fmt(s, 1).padStart(6)} s`);

	const checks = [
		['concurrency 5: wall time / floor', results[5].seconds / floor(5), '<= 1.15', (x) => x <= 1.15],
		['concurrency 10: wall time / floor', results[10].seconds / floor(10), '<= 1.15', (x) => x <= 1.15],
		['concurrency 10: sequential / node (speed-up)', sequential / results[10].seconds, '>= 8', (x) => x >= 8],
		['/query calls per image while waiting (concurrency 5)', results[5].queriesPerImage, '<= 1.5', (x) => x <= 1.5],
		['/query calls per image while waiting (concurrency 10)', results[10].queriesPerImage, '<= 1.5', (x) => x <= 1.5],
		['re-run of the same 50: credits spent', results.rerun.credits, '= 0', (x) => x === 0],
		['re-run of the same 50: uploads', results.rerun.uploads, '= 0', (x) => x === 0],
		['re-run of the same 50: /query per image', results.rerun.queriesPerImage, '= 1', (x) => x === 1],
		['/query calls per image (c 5, Download Heatmap)', results.heatmap.queriesPerImage, '<= 2.5', (x) => x <= 2.5],
		['Download Heatmap: wall time / floor', results.heatmap.seconds / heatmapFloor, '<= 1.15', (x) => x <= 1.15],
		['defaults (analysis waited for): wall time / floor', results.defaults.seconds / analysisFloor, '<= 1.15', (x) => x <= 1.15],
		['5 attachments per item / 1 image per item (wall time)', results.files.seconds / results[5].seconds, '<= 1.1', (x) => x <= 1.1],
		['median ms from result ready to node seeing it (c 5)', results[5].medianLagMs, '<= 300', (x) => x <= 300],
		['median ms from result ready to node seeing it (c 10)', results[10].medianLagMs, '<= 300', (x) => x <= 300],
		['bulk: peak memory growth / payload (50 x 2 MB)', memory.growthMB / memory.payloadMB, '<= 2', (x) => x <= 2],
		['bulk from 5 ZIPs of 40 MB at c 5: peak growth / one ZIP', zipMemory.growthMB / zipMemory.zipMB, '<= 1.5', (x) => x <= 1.5],
	];
	console.log('\nRatios and targets');
	for (const [name, value, target, ok] of checks) {
		console.log(`  ${name.padEnd(54)} ${fmt(value).padStart(8)}   target ${target.padEnd(7)} ${ok(value) ? 'met' : 'MISSED'}`);
	}
	console.log(`\nAll /query calls per image, the one before each upload included: ${fmt(results[5].allQueriesPerImage)} (c 5), ${fmt(results[10].allQueriesPerImage)} (c 10)`);
	console.log(`Re-run of the same 50 images at concurrency 5: ${fmt(results.rerun.seconds, 2)} s, ${results.rerun.reused} reused`);
	console.log('\nBulk from items against 50 single detections');
	console.log(`  requests: bulk ${bulkStats.total}, singles ${results[5].requests} (${fmt(results[5].requests / bulkStats.total, 1)}x fewer)`);
	console.log(`  wall time: bulk ${fmt(bulk.seconds, 1)} s, singles at concurrency 5 ${fmt(results[5].seconds, 1)} s`);
	console.log(`\nMemory: bulk of ${memory.payloadMB} MB grew the heap+external peak by ${fmt(memory.growthMB, 1)} MB (${fmt(memory.seconds, 1)} s)`);
	console.log(`Memory: bulk from 5 ZIPs of ${zipMemory.zipMB} MB (${zipMemory.payloadMB} MB in all, 5 at once) grew it by ${fmt(zipMemory.growthMB, 1)} MB (${fmt(zipMemory.seconds, 1)} s)`);
	process.exit(checks.every(([, v, , ok]) => ok(v)) ? 0 : 1);
}

main().catch((e) => {
	console.error(e);
	process.exit(2);
});
