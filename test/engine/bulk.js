// Bulk Detect: from a ZIP and from the images of many items; per-image and per-batch output; timeouts.
const { useSimulator, imageItem, DEFAULT_KEY } = require('../harness/setup');
const { image, zipOf } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');

const ctx = useSimulator();
const bulk = (extra = {}) => ({ resource: 'image', operation: 'bulkDetect', ...extra });
const zipItem = (bytes, name = 'batch.zip') => imageItem(bytes, name, 'application/zip');
const bulkRequests = (from) => ctx.sim.requests.slice(from).filter((q) => q.path === '/bulk-upload');

describe('Bulk Detect from a ZIP', () => {
	const a = image.jpeg(3000, 301);
	const b = image.png(4000, 302);
	const zip = zipOf([
		{ name: 'photos/a.jpg', data: a },
		{ name: 'photos/b.png', data: b },
		{ name: 'photos/scan.pdf', data: image.pdf(3000, 303) },
		{ name: '.DS_Store', data: Buffer.alloc(2000, 1) },
	]);

	test('one item per image, skipped files as failed items with the reason', async () => {
		const from = ctx.sim.requests.length;
		const r = await ctx.run(bulk(), [zipItem(zip, 'My Batch.zip')]);
		expect(r.error).toBeUndefined();
		const byName = Object.fromEntries(r.items.map((i) => [i.json.fileName, i.json]));
		expect(byName['a.jpg']).toMatchObject({ status: 'done', score: scoreFor(a), verdict: verdictFor(scoreFor(a)) });
		expect(byName['b.png']).toMatchObject({ status: 'done', score: scoreFor(b) });
		expect(byName['photos/scan.pdf']).toMatchObject({ status: 'failed', error: 'PDF not supported in bulk' });
		expect(byName['.DS_Store']).toMatchObject({ status: 'failed' });
		const batchIds = new Set(r.items.map((i) => i.json.batchId));
		expect(batchIds.size).toBe(1);
		expect(r.items.every((i) => i.pairedItem.item === 0)).toBe(true);

		const seen = ctx.sim.requests.slice(from);
		expect(seen.find((q) => q.path === '/get-presigned-url').query.file_name).toBe('My_Batch.zip');
		expect(seen.find((q) => q.method === 'PUT').headers['content-type']).toBe('application/zip');
		const body = JSON.parse(bulkRequests(from)[0].body);
		expect(body).toMatchObject({ key: DEFAULT_KEY, generate_preview: false, generate_analysis_details: false, generate_heatmap_overlayed: true });
	});

	test('one item per batch with counts, results and skipped', async () => {
		const r = await ctx.run(bulk({ outputMode: 'perBatch' }), [zipItem(zip)]);
		expect(r.items).toHaveLength(1);
		expect(r.items[0].json).toMatchObject({ status: 'done', expectedCount: 2, done: 2, failed: 0, pending: 0, skippedCount: 2 });
		expect(r.items[0].json.skipped.map((x) => x.fileName).sort()).toEqual(['.DS_Store', 'photos/scan.pdf']);
		expect(r.items[0].json.results.map((x) => x.score).sort()).toEqual([scoreFor(a), scoreFor(b)].sort());
	});

	test('Wait for Result off gives the batch id to fetch later; Get Result fetches it in both shapes', async () => {
		const r = await ctx.run(bulk({ waitForResult: false }), [zipItem(zip)]);
		const { batchId } = r.items[0].json;
		expect(r.items[0].json).toMatchObject({ status: 'pending', expectedCount: 2 });

		const perImage = await ctx.run({ resource: 'image', operation: 'getResult', documentId: batchId });
		expect(perImage.items).toHaveLength(4);
		expect(perImage.items.filter((i) => i.json.status === 'done').map((i) => i.json.score).sort()).toEqual([scoreFor(a), scoreFor(b)].sort());
		const perBatch = await ctx.run({ resource: 'image', operation: 'getResult', documentId: batchId, outputMode: 'perBatch' });
		expect(perBatch.items[0].json).toMatchObject({ batchId, status: 'done', done: 2 });
	});

	test('what the server would refuse is refused before any upload', async () => {
		const cases = [
			[zipOf(Array.from({ length: 51 }, (_, n) => ({ name: `i${n}.jpg`, data: image.jpeg(1100, n) }))), /holds 51 images; at most 50/],
			[zipOf([{ name: 'doc.pdf', data: image.pdf(3000) }, { name: 'tiny.jpg', data: image.jpeg(500) }]), /No image in the ZIP can be analyzed \(doc.pdf: PDF is not supported in bulk; tiny.jpg: smaller than 1 KB\)/],
			[zipOf([{ name: '../evil.jpg', data: image.jpeg(3000) }]), /an unsafe path \("\.\." or absolute\)/],
			[image.jpeg(3000), /is not a ZIP/],
		];
		for (const [bytes, message] of cases) {
			const from = ctx.sim.requests.length;
			const r = await ctx.run(bulk(), [zipItem(bytes)]);
			expect(r.error.message).toMatch(message);
			expect(ctx.sim.requests.slice(from)).toEqual([]);
		}
	});

	test('a timeout says how far it got and names the batch id; or returns partial results', async () => {
		const saved = ctx.sim.timing.perImageMs;
		ctx.sim.timing.perImageMs = 700;
		try {
			const images = Array.from({ length: 6 }, (_, n) => ({ name: `p${n}.jpg`, data: image.jpeg(1500, 310 + n) }));
			const r = await ctx.run(bulk({ options: { timeout: 2 } }), [zipItem(zipOf(images))]);
			expect(r.error.message).toMatch(/Timed out after 2 s waiting for bulk batch [0-9a-f-]{36}: \d of 6 images finished/);
			expect(r.error.description).toMatch(/Return Partial Results on Timeout/);

			const p = await ctx.run(bulk({ options: { timeout: 2, returnPartialResults: true } }), [zipItem(zipOf(images))]);
			expect(p.error).toBeUndefined();
			expect(p.items).toHaveLength(6);
			const done = p.items.filter((i) => i.json.status === 'done');
			const pending = p.items.filter((i) => i.json.status === 'pending');
			expect(done.length).toBeGreaterThan(0);
			expect(pending.length).toBeGreaterThan(0);
			for (const i of done) expect(i.json.score).toBe(scoreFor(images.find((x) => x.name === i.json.fileName).data));
			for (const i of pending) expect(i.json.score).toBeNull();
		} finally {
			ctx.sim.timing.perImageMs = saved;
		}
	});
});

describe('Bulk Detect from the images of many items', () => {
	test('120 images go out as three bulk requests, each result back on its own item', async () => {
		const images = Array.from({ length: 120 }, (_, n) => image.jpeg(1100 + (n % 7) * 10, 400 + n));
		const items = images.map((b, n) => imageItem(b, n % 10 === 0 ? 'same name.jpg' : `img-${n}.jpg`, 'image/jpeg'));
		const from = ctx.sim.requests.length;
		const r = await ctx.run(bulk({ bulkSource: 'items' }), items);
		expect(r.error).toBeUndefined();
		expect(bulkRequests(from)).toHaveLength(3);
		expect(ctx.sim.submissions.slice(-3).map((s) => ctx.sim.docs.get(s.id).children.length)).toEqual([50, 50, 20]);
		expect(r.items).toHaveLength(120);
		r.items.forEach((item, n) => {
			expect(item.pairedItem).toEqual({ item: n });
			expect(item.json.score).toBe(scoreFor(images[n]));
			expect(item.json.status).toBe('done');
		});
		// Names inside one ZIP are unique: the twelve "same name.jpg" items did not overwrite each other; each output
		// keeps the name the user knows beside the one it had in the ZIP.
		expect(new Set(r.items.slice(0, 50).map((i) => i.json.uploadFileName)).size).toBe(50);
		expect(r.items[10].json).toMatchObject({ fileName: 'same name.jpg', uploadFileName: 'same_name-2.jpg', binaryField: 'data' });
	});

	test('per-batch output pairs each batch item to all of its input items', async () => {
		const items = Array.from({ length: 55 }, (_, n) => imageItem(image.jpeg(1100, 600 + n), `b${n}.jpg`, 'image/jpeg'));
		const r = await ctx.run(bulk({ bulkSource: 'items', outputMode: 'perBatch' }), items);
		expect(r.items).toHaveLength(2);
		expect(r.items[0].json).toMatchObject({ expectedCount: 50, done: 50 });
		expect(r.items[0].pairedItem).toHaveLength(50);
		expect(r.items[1].pairedItem).toEqual([0, 1, 2, 3, 4].map((k) => ({ item: 50 + k })));
	});

	test('a bad image stops the run before any upload, naming the item', async () => {
		const items = [imageItem(image.jpeg(2000, 1), 'ok.jpg', 'image/jpeg'), imageItem(image.pdf(3000), 'doc.pdf', 'application/pdf')];
		const from = ctx.sim.requests.length;
		const r = await ctx.run(bulk({ bulkSource: 'items' }), items);
		expect(r.error.message).toMatch(/"doc.pdf" is a PDF, which bulk detection does not support/);
		expect(r.error.context.itemIndex).toBe(1);
		expect(ctx.sim.requests.slice(from)).toEqual([]);
	});

	test('with Continue On Fail, bad images become error items and the rest are detected', async () => {
		const good = image.jpeg(2000, 701);
		const items = [
			imageItem(image.jpeg(500), 'tiny.jpg', 'image/jpeg'),
			imageItem(good, 'good.jpg', 'image/jpeg'),
			{ json: { note: 'no image' } },
		];
		const r = await ctx.run(bulk({ bulkSource: 'items' }), items, { continueOnFail: true });
		expect(r.items).toHaveLength(3);
		expect(r.items[0]).toMatchObject({ json: { error: expect.stringMatching(/too small/) }, pairedItem: { item: 0 } });
		expect(r.items[1]).toMatchObject({ json: { score: scoreFor(good), status: 'done' }, pairedItem: { item: 1 } });
		expect(r.items[2]).toMatchObject({ json: { error: expect.stringMatching(/no binary field/) }, pairedItem: { item: 2 } });
	});

	test('the ZIP the node builds is a valid ZIP the server reads (SVG, WebP, PNG, JPEG)', async () => {
		const files = [image.svg(3000, 801), image.webp(3000, 802), image.png(3000, 803), image.jpeg(3000, 804)];
		const names = ['logo.svg', 'art.webp', 'pic.png', 'photo.jpg'];
		const mimes = ['image/svg+xml', 'image/webp', 'image/png', 'image/jpeg'];
		const r = await ctx.run(bulk({ bulkSource: 'items' }), files.map((f, n) => imageItem(f, names[n], mimes[n])));
		expect(r.items.map((i) => i.json.score)).toEqual(files.map(scoreFor));
		expect(r.items.map((i) => i.json.fileName)).toEqual(names);
	});
});

describe('ZIPs the API accepts are not refused', () => {
	const { execFileSync } = require('child_process');
	const fs = require('fs');
	const os = require('os');
	const path = require('path');

	/** A ZIP made by Info-ZIP's zip with ZIP64 forced (-fz): 64-bit end record, sizes in each entry's extra field. */
	function zip64Of(entries) {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-zip64-'));
		for (const { name, data } of entries) fs.writeFileSync(path.join(dir, name), data);
		execFileSync('zip', ['-q', '-fz', '-0', 'out.zip', ...entries.map((e) => e.name)], { cwd: dir });
		const bytes = fs.readFileSync(path.join(dir, 'out.zip'));
		fs.rmSync(dir, { recursive: true, force: true });
		return bytes;
	}

	test('a ZIP64 archive (zip -fz) is read and detected, every image with its score', async () => {
		const images = [image.jpeg(3000, 401), image.png(3500, 402), image.jpeg(4000, 403)];
		const zip = zip64Of(images.map((data, k) => ({ name: `z${k}.${k === 1 ? 'png' : 'jpg'}`, data })));
		expect(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true); // it really has a ZIP64 end record
		const r = await ctx.run(bulk(), [zipItem(zip, 'z64.zip')]);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.score).sort()).toEqual(images.map(scoreFor).sort());
	});

	test('50 images plus hidden entries are not "51 images": the hidden ones are skipped with the reason', async () => {
		const entries = Array.from({ length: 50 }, (_, k) => ({ name: `img/${k}.jpg`, data: image.jpeg(1100, 500 + k) }));
		entries.push({ name: '.thumbs/t.png', data: image.png(2000, 601) }, { name: '__MACOSX/img/._0.jpg', data: image.jpeg(1500, 602) });
		const r = await ctx.run(bulk(), [zipItem(zipOf(entries), 'fifty.zip')]);
		expect(r.error).toBeUndefined();
		expect(r.items.filter((i) => i.json.status === 'done')).toHaveLength(50);
		const skipped = r.items.filter((i) => i.json.status === 'failed').map((i) => i.json.fileName).sort();
		expect(skipped).toEqual(['.thumbs/t.png', '__MACOSX/img/._0.jpg']);
	});

	test('entries with ".." or an absolute path are called unsafe paths, not hidden files', async () => {
		const zip = zipOf([
			{ name: '../evil.jpg', data: image.jpeg(2000, 603) },
			{ name: '/abs.jpg', data: image.jpeg(2000, 604) },
		]);
		const from = ctx.sim.requests.length;
		const r = await ctx.run(bulk(), [zipItem(zip, 'unsafe.zip')]);
		expect(r.error.message).toBe(
			'No image in the ZIP can be analyzed (../evil.jpg: an unsafe path (".." or absolute) is not allowed; /abs.jpg: an unsafe path (".." or absolute) is not allowed)',
		);
		expect(bulkRequests(from)).toEqual([]);
	});
});
