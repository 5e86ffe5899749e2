'use strict';
// Files kept in memory (n8n 1.x's default binary data mode): no id, the bytes inline. What differs from the
// filesystem mode: two attachments with the same bytes carry the same data, and $binary hands an expression a
// file's details without its data.
const { useSimulator } = require('../harness/setup');
const { image } = require('../harness/fixtures');
const { scoreFor } = require('../simulator/documents');

const ctx = useSimulator();
const detect = (extra = {}) => ({ resource: 'image', operation: 'detect', ...extra });
const file = (bytes, fileName, mimeType = 'image/jpeg') => ({ bytes, fileName, mimeType });
const email = (files) => ({ json: { subject: 'in memory' }, binary: Object.fromEntries(files.map((f, k) => [`attachment_${k}`, f])) });

test('the files really are in memory here', async () => {
	const r = await ctx.run(detect(), [{ json: {}, binary: { data: file(image.jpeg(3000, 900), 'a.jpg') } }]);
	expect(r.items[0].binary.data.id).toBeUndefined();
	expect(r.items[0].binary.data.data.length).toBeGreaterThan(1000);
	expect(r.items[0].json.score).toBe(scoreFor(image.jpeg(3000, 900)));
});

test('two attachments with the same bytes are two files: two results, one upload and one credit', async () => {
	const bytes = image.jpeg(3000, 901);
	const before = ctx.sim.credits();
	const r = await ctx.run(detect({ inputFiles: 'allImages' }), [email([file(bytes, 'forest.jpg'), file(bytes, 'forest (copy).jpg')])]);
	expect(r.items.map((i) => [i.json.binaryField, i.json.fileName, i.json.score])).toEqual([
		['attachment_0', 'forest.jpg', scoreFor(bytes)],
		['attachment_1', 'forest (copy).jpg', scoreFor(bytes)],
	]);
	expect(before - ctx.sim.credits()).toBe(1);
});

test('{{ $binary.attachment_1 }} finds its file by its details', async () => {
	const photos = [image.jpeg(3000, 902), image.jpeg(3100, 903)];
	const r = await ctx.run(detect({ binaryPropertyName: '={{ $binary.attachment_1 }}' }), [email(photos.map((b, k) => file(b, `p${k}.jpg`)))]);
	expect(r.error).toBeUndefined();
	expect(r.items.map((i) => [i.json.binaryField, i.json.score])).toEqual([['attachment_1', scoreFor(photos[1])]]);
});

test('a detail-only file object that matches no file of the item says to give the field name', async () => {
	const r = await ctx.run(detect({ binaryPropertyName: '={{ { mimeType: "image/png", fileName: "other.png" } }}' }), [email([file(image.jpeg(3000, 904), 'p.jpg')])]);
	expect(r.error.message).toMatch(/"other.png" in "Input Binary Field" of item 0 is none of the item's files/);
	expect(r.error.description).toMatch(/Give the name of a binary field/);
});

test('Bulk Detect from items and a heatmap attached, in memory too', async () => {
	const photos = [image.jpeg(1500, 905), image.jpeg(1500, 906)];
	const bulk = await ctx.run({ resource: 'image', operation: 'bulkDetect', bulkSource: 'items', inputFiles: 'allImages' }, [email(photos.map((b, k) => file(b, `b${k}.jpg`)))]);
	expect(bulk.items.map((i) => i.json.score)).toEqual(photos.map(scoreFor));
	const withHeatmap = await ctx.run(detect({ options: { downloadHeatmap: true } }), [{ json: {}, binary: { data: file(photos[0], 'beach.jpg') } }]);
	expect(withHeatmap.items[0].binary.heatmap).toMatchObject({ fileName: 'beach-heatmap.png', mimeType: 'image/png' });
});
