#!/usr/bin/env node
'use strict';
// npm run demo: the example workflows in a real n8n, against the built-in API simulator (no key, no network),
// or against the real API when UNDETECTABLE_API_KEY is set. Prints what a user wants to see.
const fs = require('fs');
const path = require('path');
const n8n = require('./n8n');
const { writeImages } = require('./images');

const OUT = path.join(n8n.ROOT, 'demo', 'out');
const WORKFLOWS = {
	notify: 'udDetectNotify01',
	report: 'udBulkCsvReport1',
	heatmaps: 'udHeatmapsDisk01',
	credits: 'udCheckCredits01',
};

async function main() {
	const realKey = process.env.UNDETECTABLE_API_KEY;
	n8n.ensureN8n();
	fs.rmSync(OUT, { recursive: true, force: true });
	const userFolder = n8n.userFolderFor('demo');
	fs.rmSync(userFolder, { recursive: true, force: true });
	const instance = await n8n.createInstance({ folder: userFolder, filesDir: OUT });
	const images = writeImages(path.join(OUT, 'undetectable', 'images'));

	let sim;
	let credential;
	if (realKey) {
		credential = { apiKey: realKey, baseUrl: 'https://ai-image-detect.undetectable.ai', storageBaseUrl: 'https://ai-image-detector-prod.nyc3.digitaloceanspaces.com' };
		console.log('Running against the real Undetectable.AI API (UNDETECTABLE_API_KEY is set).');
	} else {
		sim = await n8n.startSimulator({ timing: { startMs: 200, resultMs: 1500, heatmapMs: 1000, analysisMs: 2000, perImageMs: 50 } });
		credential = { apiKey: sim.key, baseUrl: sim.apiUrl, storageBaseUrl: sim.storageUrl };
		console.log(`Running against the built-in API simulator at ${sim.apiUrl} (no key, no network).`);
	}
	console.log(`n8n ${n8n.N8N_VERSION}, this package installed as a community node; ${images.length} images in ${path.relative(n8n.ROOT, path.join(OUT, 'undetectable', 'images'))}/\n`);

	try {
		const workflows = [
			...n8n.exampleWorkflows(OUT),
			{ file: 'check-credits.json', workflow: JSON.parse(fs.readFileSync(path.join(__dirname, 'check-credits.json'), 'utf8')) },
		];
		await n8n.importAll(instance, credential, workflows);

		const runs = {};
		for (const [name, id] of Object.entries(WORKFLOWS)) {
			const started = Date.now();
			runs[name] = await n8n.execute(instance, id);
			fs.writeFileSync(path.join(OUT, `${name}-run.json`), JSON.stringify(runs[name], null, 2));
			runs[name].seconds = (Date.now() - started) / 1000;
		}

		const alerts = n8n.nodeOutput(runs.notify, 'Alert message');
		const real = n8n.nodeOutput(runs.notify, 'Looks real');
		const detections = n8n.nodeOutput(runs.notify, 'Detect AI image');
		console.log(`1. examples/detect-and-notify.json: Detect each image, then IF AI-generated -> a message  (${runs.notify.seconds.toFixed(1)} s)`);
		for (const d of detections) console.log(`   ${d.fileName.padEnd(18)} ${String(d.verdict).padEnd(16)} score ${String(d.score).padStart(6)}`);
		for (const m of [...alerts, ...real]) console.log(`   message: ${m.message}`);

		const report = path.join(OUT, 'undetectable', 'report.csv');
		const rows = fs.readFileSync(report, 'utf8').trim().split('\n');
		console.log(`\n2. examples/bulk-csv-report.json: Bulk Detect from items (one request) -> CSV  (${runs.report.seconds.toFixed(1)} s)`);
		console.log(`   ${path.relative(n8n.ROOT, report)}: ${rows.length - 1} rows`);
		for (const row of rows.slice(0, 3)) console.log(`   | ${row}`);

		const heatmapDir = path.join(OUT, 'undetectable');
		console.log(`\n3. examples/heatmaps-to-disk.json: Detect with the heatmap attached -> files  (${runs.heatmaps.seconds.toFixed(1)} s)`);
		for (const f of fs.readdirSync(heatmapDir).filter((f) => f.endsWith('-heatmap.png')).sort()) {
			console.log(`   ${path.relative(n8n.ROOT, path.join(heatmapDir, f))}  (${fs.statSync(path.join(heatmapDir, f)).size} bytes)`);
		}

		const credits = n8n.nodeOutput(runs.credits, 'Check credits')[0];
		console.log(`\nCredits left: ${credits.credits}`);
		console.log(`\nThe full JSON of each run: ${path.relative(n8n.ROOT, OUT)}/*-run.json`);
	} finally {
		sim?.stop();
	}
}

main().catch((e) => {
	console.error(`\nThe demo failed: ${e.message}`);
	if (typeof e.output === 'string') console.error(`What n8n printed last:\n${e.output}`);
	if (!require('./install-n8n').isInstalled(n8n.N8N_VERSION)) {
		console.error(`n8n ${n8n.N8N_VERSION} is not installed yet. Run the same command again to retry the install (it needs the npm registry), or install it alone with: node demo/install-n8n.js ${n8n.N8N_VERSION}`);
	}
	process.exit(1);
});
