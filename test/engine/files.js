// Files wherever n8n puts them, through n8n's engine against the simulator: many files per item (forms, email
// attachments), field lists and file objects from expressions, every image of an item, n8n's combined binary mode,
// types told by the bytes, names the user knows, error items that name their file.
const { useSimulator, imageItem } = require('../harness/setup');
const { image } = require('../harness/fixtures');
const { scoreFor, verdictFor } = require('../simulator/documents');

const ctx = useSimulator();
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });
const file = (bytes, fileName, mimeType) => ({ bytes, fileName, mimeType });
/** An email as the Gmail and IMAP triggers give it: its fields, and attachment_0, attachment_1, ... */
const email = (attachments, json = { subject: 'Photos from the trip', from: 'ana@example.com' }) => ({
	json,
	binary: Object.fromEntries(attachments.map((a, k) => [`attachment_${k}`, a])),
});
const creditsUsed = async (work) => {
	const before = ctx.sim.credits();
	const result = await work();
	return { result, credits: before - ctx.sim.credits() };
};

describe('the type comes from the bytes', () => {
	test('an extensionless object served as application/octet-stream is checked as the PNG it is', async () => {
		const bytes = image.png(3000, 801);
		const from = ctx.sim.requests.length;
		const r = await ctx.run(detect(), [imageItem(bytes, '8f3a2c', 'application/octet-stream')]);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ score: scoreFor(bytes), fileName: '8f3a2c', uploadFileName: '8f3a2c.png', detectedType: 'image/png' });
		const put = ctx.sim.requests.slice(from).find((q) => q.method === 'PUT');
		expect(put.headers['content-type']).toBe('image/png');
	});

	test('a .jpg holding PNG bytes is uploaded as PNG, and the output says so', async () => {
		const bytes = image.png(3000, 802);
		const r = await ctx.run(detect(), [imageItem(bytes, 'beach.jpg', 'image/jpeg')]);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ score: scoreFor(bytes), fileName: 'beach.jpg', uploadFileName: 'beach.png', detectedType: 'image/png' });
	});

	test('a right name with a generic MIME type (binary/octet-stream, as S3 gives) says nothing', async () => {
		const bytes = image.jpeg(3000, 803);
		const r = await ctx.run(detect(), [imageItem(bytes, 'photo.jpg', 'binary/octet-stream')]);
		expect(r.items[0].json).toMatchObject({ uploadFileName: 'photo.jpg', score: scoreFor(bytes) });
		expect(r.items[0].json.detectedType).toBeUndefined();
	});
});

describe('names the user knows', () => {
	test('the output keeps the name with spaces beside the cleaned upload name; the heatmap is named after the image', async () => {
		const bytes = image.png(3000, 804);
		const r = await ctx.run(detect({ options: { downloadHeatmap: true } }), [imageItem(bytes, 'beach photo.png', 'image/png')]);
		expect(r.items[0].json).toMatchObject({ fileName: 'beach photo.png', uploadFileName: 'beach_photo.png', binaryField: 'data' });
		expect(r.items[0].binary.heatmap.fileName).toBe('beach photo-heatmap.png');
	});

	test('error items name the file and its field (and the document, once there is one)', async () => {
		const failing = image.jpeg(3000, 805, 'SIM:FAIL');
		const r = await ctx.run(
			detect({ inputFiles: 'named', binaryPropertyName: 'attachment_0, attachment_1, attachment_2' }),
			[email([file(image.jpeg(600), 'tiny.jpg', 'image/jpeg'), file(failing, 'broken photo.jpg', 'image/jpeg'), file(image.jpeg(3000, 806), 'fine.jpg', 'image/jpeg')])],
			{ continueOnFail: true },
		);
		expect(r.items).toHaveLength(3);
		expect(r.items[0]).toMatchObject({ json: { error: expect.stringMatching(/too small/), fileName: 'tiny.jpg', binaryField: 'attachment_0' }, pairedItem: { item: 0 } });
		expect(r.items[1]).toMatchObject({ json: { error: expect.stringMatching(/Detection failed/), fileName: 'broken photo.jpg', binaryField: 'attachment_1', id: expect.any(String) } });
		expect(r.items[2].json).toMatchObject({ status: 'done', fileName: 'fine.jpg', binaryField: 'attachment_2' });
	});
});

describe('with the defaults, nothing asked for comes back silently empty', () => {
	test('the analysis (asked for by default) is waited for; with Wait for Analysis off, its status says why it is empty', async () => {
		const saved = { ...ctx.sim.timing };
		Object.assign(ctx.sim.timing, { analysisMs: 700 });
		try {
			const r = await ctx.run(detect(), [imageItem(image.jpeg(3000, 807), 'a.jpg', 'image/jpeg')]);
			expect(r.items[0].json).toMatchObject({ analysisStatus: 'ready', analysis: { detailedReasoning: expect.any(String) } });
			const quick = await ctx.run(detect({ options: { waitForAnalysis: false } }), [imageItem(image.jpeg(3000, 808), 'b.jpg', 'image/jpeg')]);
			expect(quick.items[0].json).toMatchObject({ analysisStatus: 'pending', analysis: null });
			const none = await ctx.run(detect({ options: { generateAnalysisDetails: false } }), [imageItem(image.jpeg(3000, 809), 'c.jpg', 'image/jpeg')]);
			expect(none.items[0].json).toMatchObject({ analysisStatus: null, analysis: null });
		} finally {
			Object.assign(ctx.sim.timing, saved);
		}
	});

	test('Get Result: a pause the API asks for past the Timeout names the document', async () => {
		const made = await ctx.run(detect({ waitForResult: false }), [imageItem(image.jpeg(3000, 810), 'd.jpg', 'image/jpeg')]);
		const id = made.items[0].json.id;
		ctx.sim.faults.once('api', 'POST', '/query', { status: 429, retryAfter: 30 });
		const r = await ctx.run({ resource: 'image', operation: 'getResult', documentId: id, options: { timeout: 2 } }, [{ json: {} }], { continueOnFail: true });
		expect(r.items[0].json).toMatchObject({ id, error: expect.stringMatching(/429/) });
		expect(r.items[0].json.description).toContain(id);
	});
});

describe('many files per item', () => {
	test('"Every Image of the Item": each attachment its own result, in field order; a PDF and a 600-byte logo skipped, no credit', async () => {
		const photos = [image.jpeg(3000, 811), image.png(3200, 812), image.webp(3100, 813)];
		const { result: r, credits } = await creditsUsed(() =>
			ctx.run(detect({ inputFiles: 'allImages', options: { includeInputFields: true } }), [
				email([
					file(photos[0], 'IMG_0001.jpg', 'image/jpeg'),
					file(image.pdf(5000), 'invoice.pdf', 'application/pdf'),
					file(photos[1], 'scan 2.png', 'image/png'),
					file(image.png(600, 814), 'logo.png', 'image/png'),
					file(photos[2], 'sticker.webp', 'image/webp'),
				]),
			]),
		);
		expect(r.error).toBeUndefined();
		expect(credits).toBe(3);
		expect(r.items.map((i) => [i.json.binaryField, i.json.fileName, i.json.status])).toEqual([
			['attachment_0', 'IMG_0001.jpg', 'done'],
			['attachment_1', 'invoice.pdf', 'skipped'],
			['attachment_2', 'scan 2.png', 'done'],
			['attachment_3', 'logo.png', 'skipped'],
			['attachment_4', 'sticker.webp', 'done'],
		]);
		expect(r.items.filter((i) => i.json.status === 'done').map((i) => i.json.score)).toEqual(photos.map(scoreFor));
		expect(r.items[1].json.skipReason).toMatch(/is a PDF, not an image/);
		expect(r.items[3].json.skipReason).toMatch(/too small \(600 bytes/);
		for (const item of r.items) expect(item).toMatchObject({ pairedItem: { item: 0 }, json: { subject: 'Photos from the trip', from: 'ana@example.com' } });
	});

	test('copies of one image in the same run: one upload, one credit, one document; the copy says reused', async () => {
		const bytes = image.jpeg(3000, 850);
		const from = ctx.sim.requests.length;
		const { result: r, credits } = await creditsUsed(() =>
			ctx.run(detect({ inputFiles: 'allImages' }), [email([file(bytes, 'forest.jpg', 'image/jpeg'), file(bytes, 'forest (copy).jpg', 'image/jpeg'), file(bytes, 'forest again.jpg', 'image/jpeg')])]),
		);
		expect(credits).toBe(1);
		expect(ctx.sim.requests.slice(from).filter((q) => q.method === 'PUT')).toHaveLength(1);
		expect(new Set(r.items.map((i) => i.json.id)).size).toBe(1);
		expect(r.items.map((i) => i.json.score)).toEqual([scoreFor(bytes), scoreFor(bytes), scoreFor(bytes)]);
		expect(r.items.map((i) => i.json.reused).sort()).toEqual([false, true, true]);
	});

	test('a short text file among them is "not an image", not "too small"', async () => {
		const r = await ctx.run(detect({ inputFiles: 'allImages' }), [email([file(Buffer.from('remember the milk'), 'notes.txt', 'text/plain')])]);
		expect(r.items[0].json).toMatchObject({ status: 'skipped', skipReason: expect.stringMatching(/"notes.txt" is not an image/) });
	});

	test('a form\'s file field works for one file ("Image") and for several ("Image_0", "Image_1") with the same setting', async () => {
		const one = image.jpeg(3000, 815);
		const two = [image.jpeg(3100, 816), image.jpeg(3200, 817)];
		const r = await ctx.run(detect({ inputFiles: 'allImages' }), [
			{ json: { Name: 'Ana' }, binary: { Image: file(one, 'me.jpg', 'image/jpeg') } },
			{ json: { Name: 'Bo' }, binary: { Image_0: file(two[0], 'a.jpg', 'image/jpeg'), Image_1: file(two[1], 'b.jpg', 'image/jpeg') } },
		]);
		expect(r.items.map((i) => [i.pairedItem.item, i.json.binaryField, i.json.score])).toEqual([
			[0, 'Image', scoreFor(one)],
			[1, 'Image_0', scoreFor(two[0])],
			[1, 'Image_1', scoreFor(two[1])],
		]);
	});

	test('the order is the fields\' (attachment_2 before attachment_10), whatever order n8n keeps them in', async () => {
		const names = ['attachment_10', 'attachment_2', 'attachment_0', 'attachment_1'];
		const bytes = names.map((_, k) => image.jpeg(2000, 870 + k));
		const r = await ctx.run(detect({ inputFiles: 'allImages' }), [{ json: {}, binary: Object.fromEntries(names.map((n, k) => [n, file(bytes[k], `${n}.jpg`, 'image/jpeg')])) }]);
		expect(r.items.map((i) => i.json.binaryField)).toEqual(['attachment_0', 'attachment_1', 'attachment_2', 'attachment_10']);
	});

	test('a comma-separated list of fields, and a file object from an expression ({{ $binary.attachment_1 }})', async () => {
		const files = [image.jpeg(3000, 818), image.jpeg(3000, 819), image.jpeg(3000, 820)];
		const item = email(files.map((b, k) => file(b, `p${k}.jpg`, 'image/jpeg')));
		const list = await ctx.run(detect({ binaryPropertyName: 'attachment_2, attachment_0' }), [item]);
		expect(list.items.map((i) => [i.json.binaryField, i.json.score])).toEqual([
			['attachment_2', scoreFor(files[2])],
			['attachment_0', scoreFor(files[0])],
		]);
		const expression = await ctx.run(detect({ binaryPropertyName: '={{ $binary.attachment_1 }}' }), [item]);
		expect(expression.error).toBeUndefined();
		expect(expression.items.map((i) => [i.json.binaryField, i.json.fileName, i.json.score])).toEqual([['attachment_1', 'p1.jpg', scoreFor(files[1])]]);
	});

	test('a missing field names the ones there are, and the setting for every image', async () => {
		const r = await ctx.run(detect(), [email([file(image.jpeg(3000, 821), 'a.jpg', 'image/jpeg')])]);
		expect(r.error.message).toBe('Item 0 has no binary field "data"');
		expect(r.error.description).toMatch(/Its binary fields are: attachment_0\. .*"Every Image of the Item"/);
	});

	test('Bulk Detect from items packs every image of every item, skips the rest, and pairs each result to its item', async () => {
		const photos = [image.jpeg(1500, 822), image.jpeg(1500, 823), image.jpeg(1500, 824)];
		const from = ctx.sim.submissions.length;
		const r = await ctx.run({ resource: 'image', operation: 'bulkDetect', bulkSource: 'items', inputFiles: 'allImages' }, [
			email([file(photos[0], 'a.jpg', 'image/jpeg'), file(image.pdf(3000), 'x.pdf', 'application/pdf')]),
			email([file(photos[1], 'b.jpg', 'image/jpeg'), file(photos[2], 'c.jpg', 'image/jpeg')]),
		]);
		expect(r.error).toBeUndefined();
		expect(ctx.sim.submissions.slice(from).map((s) => s.endpoint)).toEqual(['bulk-upload']);
		expect(r.items.map((i) => [i.pairedItem.item, i.json.binaryField, i.json.status, i.json.score ?? null])).toEqual([
			[0, 'attachment_0', 'done', scoreFor(photos[0])],
			[0, 'attachment_1', 'skipped', null],
			[1, 'attachment_0', 'done', scoreFor(photos[1])],
			[1, 'attachment_1', 'done', scoreFor(photos[2])],
		]);
	});
});

describe('review of files per item: the edge cases', () => {
	test('Bulk Detect from items with {{ $binary.attachment_0 }}: each item its own file', async () => {
		const photos = [image.jpeg(1500, 880), image.jpeg(1500, 881)];
		const r = await ctx.run({ resource: 'image', operation: 'bulkDetect', bulkSource: 'items', binaryPropertyName: '={{ $binary.attachment_0 }}' }, [
			email([file(photos[0], 'one.jpg', 'image/jpeg')]),
			email([file(photos[1], 'two.jpg', 'image/jpeg')]),
		]);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => [i.pairedItem.item, i.json.binaryField, i.json.score])).toEqual([
			[0, 'attachment_0', scoreFor(photos[0])],
			[1, 'attachment_0', scoreFor(photos[1])],
		]);
	});

	test('a file object from the raw item or from $json._files names its own field, not the first one', async () => {
		const photos = [image.jpeg(3000, 882), image.jpeg(3000, 883)];
		const item = email(photos.map((b, k) => file(b, `r${k}.jpg`, 'image/jpeg')));
		const raw = await ctx.run(detect({ binaryPropertyName: '={{ $input.item.binary.attachment_1 }}' }), [item]);
		expect(raw.items.map((i) => [i.json.binaryField, i.json.score])).toEqual([['attachment_1', scoreFor(photos[1])]]);
		const inJson = await ctx.run(detect({ binaryPropertyName: '={{ $json._files.attachment_1 }}' }), [item], { settings: { binaryMode: 'combined' } });
		expect(inJson.items.map((i) => [i.json.binaryField, i.json.score])).toEqual([['attachment_1', scoreFor(photos[1])]]);
	});

	test('one missing name in a list is that entry\'s error; the others are checked', async () => {
		const photos = [image.jpeg(3000, 884), image.jpeg(3000, 885)];
		const r = await ctx.run(detect({ binaryPropertyName: 'attachment_0, nope, attachment_1, attachment_0' }), [email(photos.map((b, k) => file(b, `m${k}.jpg`, 'image/jpeg')))], {
			continueOnFail: true,
		});
		expect(r.items.map((i) => [i.json.binaryField, i.json.score ?? i.json.error])).toEqual([
			['attachment_0', scoreFor(photos[0])],
			['nope', 'Item 0 has no binary field "nope"'],
			['attachment_1', scoreFor(photos[1])],
		]);
	});

	test('"Every Image of the Item" on an item with no files says so, in Detect and Bulk Detect', async () => {
		const r = await ctx.run(detect({ inputFiles: 'allImages' }), [{ json: { subject: 'no attachments' } }]);
		expect(r.items).toEqual([{ json: expect.objectContaining({ status: 'skipped', skipReason: 'The item has no files' }), pairedItem: { item: 0 } }]);
		const bulk = await ctx.run({ resource: 'image', operation: 'bulkDetect', bulkSource: 'items', inputFiles: 'allImages' }, [{ json: {} }, email([file(image.jpeg(1500, 886), 'x.jpg', 'image/jpeg')])]);
		expect(bulk.items.map((i) => [i.pairedItem.item, i.json.status])).toEqual([
			[0, 'skipped'],
			[1, 'done'],
		]);
	});

	test('a failed packed batch: each error item names its own file (per image) or is one item paired to all (per batch)', async () => {
		const items = [email([file(image.jpeg(1500, 887), 'a.jpg', 'image/jpeg'), file(image.jpeg(1500, 888), 'b.jpg', 'image/jpeg')]), email([file(image.jpeg(1500, 889), 'c.jpg', 'image/jpeg')])];
		const bulk = (extra) => ({ resource: 'image', operation: 'bulkDetect', bulkSource: 'items', inputFiles: 'allImages', ...extra });
		ctx.sim.faults.once('api', 'POST', '/bulk-upload', { status: 400, json: { detail: 'Too many files' } });
		const perImage = await ctx.run(bulk(), items, { continueOnFail: true });
		expect(perImage.items.map((i) => [i.pairedItem.item, i.json.fileName, i.json.binaryField, /Too many files/.test(i.json.error)])).toEqual([
			[0, 'a.jpg', 'attachment_0', true],
			[0, 'b.jpg', 'attachment_1', true],
			[1, 'c.jpg', 'attachment_0', true],
		]);
		ctx.sim.faults.once('api', 'POST', '/bulk-upload', { status: 400, json: { detail: 'Too many files' } });
		const perBatch = await ctx.run(bulk({ outputMode: 'perBatch' }), items, { continueOnFail: true });
		expect(perBatch.items).toEqual([{ json: expect.objectContaining({ error: expect.stringMatching(/Too many files/) }), pairedItem: [{ item: 0 }, { item: 1 }] }]);
	});

	test('One Item per Batch with several files per item pairs the batch to every item it holds', async () => {
		const r = await ctx.run({ resource: 'image', operation: 'bulkDetect', bulkSource: 'items', inputFiles: 'allImages', outputMode: 'perBatch' }, [
			email([file(image.jpeg(1500, 890), 'a.jpg', 'image/jpeg'), file(image.jpeg(1500, 891), 'b.jpg', 'image/jpeg')]),
			email([file(image.jpeg(1500, 892), 'c.jpg', 'image/jpeg')]),
		]);
		expect(r.items).toEqual([{ json: expect.objectContaining({ expectedCount: 3, done: 3 }), pairedItem: [{ item: 0 }, { item: 1 }] }]);
	});

	test('copies of an image when the first one\'s upload fails: one more upload, one document, one credit', async () => {
		const bytes = image.jpeg(3000, 893);
		const from = ctx.sim.requests.length;
		ctx.sim.faults.once('storage', 'PUT', /^\/uploads\//, { status: 403, raw: '<Error><Code>AccessDenied</Code></Error>', contentType: 'application/xml' });
		const { result: r, credits } = await creditsUsed(() =>
			ctx.run(detect({ inputFiles: 'allImages' }), [email([file(bytes, 'a.jpg', 'image/jpeg'), file(bytes, 'b.jpg', 'image/jpeg'), file(bytes, 'c.jpg', 'image/jpeg')])], { continueOnFail: true }),
		);
		expect(credits).toBe(1);
		expect(ctx.sim.requests.slice(from).filter((q) => q.method === 'PUT')).toHaveLength(2);
		expect(r.items.filter((i) => i.json.error).map((i) => i.json.error)).toEqual([expect.stringMatching(/AccessDenied/)]);
		expect(r.items.filter((i) => i.json.score === scoreFor(bytes))).toHaveLength(2);
	});

	test('an analysis not written within the Timeout keeps the billed verdict and says why it is missing', async () => {
		const saved = { ...ctx.sim.timing };
		Object.assign(ctx.sim.timing, { analysisMs: 5000 });
		try {
			const bytes = image.jpeg(3000, 894);
			const r = await ctx.run(detect({ options: { timeout: 1 } }), [imageItem(bytes, 'slow.jpg', 'image/jpeg')]);
			expect(r.error).toBeUndefined();
			expect(r.items[0].json).toMatchObject({ status: 'done', score: scoreFor(bytes), analysisStatus: 'pending', analysis: null });
			expect(r.items[0].json.analysisError).toMatch(/not written within the Timeout \(1 s\); the score and verdict are final.*Get Result/);
		} finally {
			Object.assign(ctx.sim.timing, saved);
		}
	});
});

describe("n8n's combined binary mode (files in $json._files)", () => {
	const combined = { binaryMode: 'combined' };

	test.each(['data', '_files.data'])('Detect reads the file with Input Binary Field "%s", and the heatmap is attached', async (field) => {
		const bytes = image.png(3000, field.length + 830);
		const r = await ctx.run(detect({ binaryPropertyName: field, options: { downloadHeatmap: true } }), [imageItem(bytes, 'beach.png', 'image/png')], { settings: combined });
		expect(r.error).toBeUndefined();
		const out = r.items[0];
		expect(out.json).toMatchObject({ score: scoreFor(bytes), verdict: verdictFor(scoreFor(bytes)), fileName: 'beach.png', binaryField: 'data' });
		// n8n moved the node's files into its JSON: the image it checked, and the heatmap beside it.
		expect(out.binary).toBeUndefined();
		expect(out.json._files.data.fileName).toBe('beach.png');
		expect(out.json._files.heatmap).toMatchObject({ fileName: 'beach-heatmap.png', mimeType: 'image/png' });
	});

	test("a Form Trigger's files kept in the JSON itself ($json.Images, a list; $json.Image, one) are every image of the item", async () => {
		const photos = [image.jpeg(3000, 860), image.jpeg(3000, 861), image.jpeg(3000, 862)];
		const r = await ctx.run(
			detect({ inputFiles: 'allImages' }),
			[
				{ json: { Name: 'Ana' }, filesInJson: { Images: [file(photos[0], 'a.jpg', 'image/jpeg'), file(photos[1], 'b.jpg', 'image/jpeg')] } },
				{ json: { Name: 'Bo' }, filesInJson: { Image: file(photos[2], 'c.jpg', 'image/jpeg') } },
			],
			{ settings: combined },
		);
		expect(r.items.map((i) => [i.pairedItem.item, i.json.binaryField, i.json.score])).toEqual([
			[0, 'Images_0', scoreFor(photos[0])],
			[0, 'Images_1', scoreFor(photos[1])],
			[1, 'Image', scoreFor(photos[2])],
		]);
		const named = await ctx.run(detect({ binaryPropertyName: 'Images_1' }), [{ json: {}, filesInJson: { Images: [file(photos[0], 'a.jpg', 'image/jpeg'), file(photos[1], 'b.jpg', 'image/jpeg')] } }], { settings: combined });
		expect(named.items.map((i) => i.json.score)).toEqual([scoreFor(photos[1])]);
	});

	test('every image of the item, and Bulk Detect from items, in combined mode too', async () => {
		const photos = [image.jpeg(3000, 840), image.jpeg(3000, 841)];
		const item = email(photos.map((b, k) => file(b, `m${k}.jpg`, 'image/jpeg')));
		const r = await ctx.run(detect({ inputFiles: 'allImages' }), [item], { settings: combined });
		expect(r.items.map((i) => [i.json.binaryField, i.json.score])).toEqual([
			['attachment_0', scoreFor(photos[0])],
			['attachment_1', scoreFor(photos[1])],
		]);
		const bulk = await ctx.run({ resource: 'image', operation: 'bulkDetect', bulkSource: 'items', binaryPropertyName: '_files.attachment_1' }, [item], { settings: combined });
		expect(bulk.items.map((i) => i.json.score)).toEqual([scoreFor(photos[1])]);
	});
});
