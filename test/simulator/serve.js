#!/usr/bin/env node
'use strict';
// Runs the simulator as its own process (for the benchmark, the demo and the editor), and prints one JSON line
// with its addresses. An admin server beside it answers GET /stats (what happened to each document: for timing
// measurements), POST /faults (random faults, as Faults#setRandom takes them) and POST /public ({name, contentType,
// base64}: a file on the storage server's public area, as an image URL points to; answers {url}).
//
//   node test/simulator/serve.js '{"timing":{"resultMs":1500,"heatmapMs":1000}}'
//   -> {"apiUrl":"http://127.0.0.1:...","storageUrl":"...","adminUrl":"...","key":"sim-key-..."}
//
// Fixed ports (for a saved n8n credential): SIM_API_PORT, SIM_STORAGE_PORT.
const http = require('http');
const { Simulator, DEFAULT_KEY } = require('./index');

async function main() {
	const options = JSON.parse(process.argv[2] || '{}');
	const sim = new Simulator(options);
	await sim.start({ apiPort: Number(process.env.SIM_API_PORT) || 0, storagePort: Number(process.env.SIM_STORAGE_PORT) || 0 });

	const admin = http.createServer(async (req, res) => {
		const chunks = [];
		for await (const c of req) chunks.push(c);
		const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
		let out = { ok: true };
		if (req.method === 'GET' && req.url === '/stats') out = stats(sim);
		else if (req.method === 'POST' && req.url === '/faults') sim.faults.setRandom(body);
		else if (req.method === 'POST' && req.url === '/faults/reset') sim.faults.reset();
		else if (req.method === 'POST' && req.url === '/timing') Object.assign(sim.timing, body);
		else if (req.method === 'POST' && req.url === '/public') out = { url: sim.publish(body.name, Buffer.from(body.base64, 'base64'), body.contentType) };
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify(out));
	});
	await new Promise((r) => admin.listen(0, '127.0.0.1', r));
	const adminUrl = `http://127.0.0.1:${admin.address().port}`;
	process.stdout.write(`${JSON.stringify({ apiUrl: sim.apiUrl, storageUrl: sim.storageUrl, adminUrl, key: DEFAULT_KEY })}\n`);
	const stop = async () => {
		admin.close();
		await sim.close();
		process.exit(0);
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
}

/** Per document: when it was created, when its score became visible, when it was queried; and request counts. */
function stats(sim) {
	const docs = [];
	for (const doc of sim.docs.byId.values()) {
		if (doc.kind !== 'single') continue;
		docs.push({ id: doc.id, parent: doc.parent ?? null, createdAt: doc.createdAt, doneAt: sim.docs.doneAt(doc), queries: sim.queryTimes.get(doc.id) ?? [] });
	}
	const bulk = [...sim.docs.byId.values()].filter((d) => d.kind === 'bulk').map((d) => ({ id: d.id, queries: sim.queryTimes.get(d.id) ?? [] }));
	const requests = {};
	for (const r of sim.requests) {
		const route = `${r.server} ${r.method} ${r.path.replace(/\/uploads\/.*/, '/uploads/...').replace(/\/[0-9a-f-]{36}.*$/, '/{id}')}`;
		requests[route] = (requests[route] ?? 0) + 1;
	}
	const credits = Object.fromEntries([...sim.accounts].map(([key, account]) => [key, account.credits]));
	// Requests that reached storage carrying a key of any account (there should be none).
	const keys = [...sim.accounts.keys()];
	const keyAtStorage = sim.requests.filter((r) => r.server === 'storage' && keys.some((k) => JSON.stringify(r.headers).includes(k) || String(r.body).includes(k))).length;
	return { docs, bulk, requests, total: sim.requests.length, credits, keyAtStorage };
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
