'use strict';
// What the reference says about file types, written from the reference (not shared with the node,
// so the simulator checks the node independently).

const CONTENT_TYPES = {
	jpg: 'image/jpeg',
	jpeg: 'image/jpeg',
	jfif: 'image/jpeg',
	png: 'image/png',
	webp: 'image/webp',
	heic: 'image/heic',
	heif: 'image/heif',
	avif: 'image/avif',
	bmp: 'image/bmp',
	tiff: 'image/tiff',
	tif: 'image/tiff',
	gif: 'image/gif',
	svg: 'image/svg+xml',
	pdf: 'application/pdf',
	zip: 'application/zip',
};

const MIN_IMAGE = 1024;
const MAX_IMAGE = 10 * 1024 * 1024;
const MAX_ZIP = 100 * 1024 * 1024;
const MAX_BULK_IMAGES = 50;

function extOf(name) {
	const m = /\.([A-Za-z0-9]+)$/.exec(name || '');
	return m ? m[1].toLowerCase() : '';
}

/** The kind of file the bytes really are, from their first bytes. */
function sniff(buf) {
	const b = buf;
	const ascii = (start, s) => b.length >= start + s.length && b.toString('latin1', start, start + s.length) === s;
	if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
	if (ascii(0, '\x89PNG')) return 'png';
	if (ascii(0, 'GIF8')) return 'gif';
	if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
	if (ascii(0, 'BM')) return 'bmp';
	if (ascii(0, 'II*\x00') || ascii(0, 'MM\x00*')) return 'tiff';
	if (ascii(0, '%PDF')) return 'pdf';
	if (ascii(0, 'PK\x03\x04')) return 'zip';
	if (ascii(4, 'ftyp')) {
		const brand = b.toString('latin1', 8, 12);
		if (brand.startsWith('avi')) return 'avif';
		if (brand.startsWith('hei') || brand.startsWith('mif')) return 'heic';
	}
	const head = b.toString('utf8', 0, Math.min(b.length, 512)).trimStart();
	if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'svg';
	return 'unknown';
}

/** Whether bytes sniffed as `kind` may carry extension `ext`. */
function kindMatchesExt(kind, ext) {
	const type = CONTENT_TYPES[ext];
	if (!type) return false;
	if (kind === 'heic') return ext === 'heic' || ext === 'heif';
	const byKind = { jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp',
		tiff: 'image/tiff', pdf: 'application/pdf', zip: 'application/zip', avif: 'image/avif', svg: 'image/svg+xml' };
	return byKind[kind] === type;
}

module.exports = { CONTENT_TYPES, MIN_IMAGE, MAX_IMAGE, MAX_ZIP, MAX_BULK_IMAGES, extOf, sniff, kindMatchesExt };
