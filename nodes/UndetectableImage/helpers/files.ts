// File names, types and sizes, checked before any request so that bad input spends no credit.
import { InputProblem } from '../transport/errors';

/** The PUT Content-Type for each extension the reference supports (exactly as the reference lists them). */
export const CONTENT_TYPE_BY_EXT: Record<string, string> = {
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
};

/** The extension a file without one gets from its MIME type. */
const EXT_BY_MIME: Record<string, string> = {
	'image/jpeg': 'jpg',
	'image/jpg': 'jpg',
	'image/pjpeg': 'jpg',
	'image/png': 'png',
	'image/webp': 'webp',
	'image/heic': 'heic',
	'image/heif': 'heif',
	'image/avif': 'avif',
	'image/bmp': 'bmp',
	'image/x-ms-bmp': 'bmp',
	'image/tiff': 'tiff',
	'image/gif': 'gif',
	'image/svg+xml': 'svg',
	'application/pdf': 'pdf',
	'application/zip': 'zip',
	'application/x-zip-compressed': 'zip',
};

export const MIN_IMAGE_BYTES = 1024;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const MAX_ZIP_BYTES = 100 * 1024 * 1024;
export const MAX_IMAGES_PER_ZIP = 50;
/** Inside a ZIP: every supported type but PDF (the reference: PDF is skipped in bulk). */
export const ZIP_IMAGE_EXTS = Object.keys(CONTENT_TYPE_BY_EXT).filter((e) => e !== 'pdf');

export const SUPPORTED_LIST = 'JPG, JPEG, PNG, WebP, JFIF, HEIC, HEIF, AVIF, BMP, TIFF, TIF, GIF, SVG, PDF';

export function extensionOf(name: string): string {
	const m = /\.([A-Za-z0-9]+)$/.exec(name);
	return m ? m[1].toLowerCase() : '';
}

/**
 * A name the API accepts: no path, no spaces or unsafe characters (the reference asks to remove spaces before
 * presigning and uploading), an extension (from the MIME type when the name has none), never empty.
 */
export function normaliseFileName(raw: string | undefined, mimeType?: string, fallback = 'image'): string {
	let name = (raw ?? '').split(/[\\/]/).pop() ?? '';
	try {
		name = decodeURIComponent(name);
	} catch {
		// keep the name as it is
	}
	name = name
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.replace(/\s+/g, '_')
		.replace(/[^A-Za-z0-9._-]/g, '_')
		.replace(/_+/g, '_')
		.replace(/^[._]+/, '');
	let ext = extensionOf(name);
	const mimeExt = mimeType ? EXT_BY_MIME[mimeType.split(';')[0].trim().toLowerCase()] : undefined;
	if (!ext && mimeExt) {
		name = `${name || fallback}.${mimeExt}`;
		ext = mimeExt;
	}
	if (!name || name === `.${ext}`) name = `${fallback}${ext ? `.${ext}` : ''}`;
	return name.length > 120 ? `${name.slice(0, 110)}.${ext}` : name;
}

/** What the bytes really are, from their first bytes: an extension, or undefined when unknown. */
export function sniffExtension(bytes: Buffer): string | undefined {
	const ascii = (at: number, text: string) => bytes.length >= at + text.length && bytes.toString('latin1', at, at + text.length) === text;
	if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg';
	if (ascii(0, '\x89PNG')) return 'png';
	if (ascii(0, 'GIF8')) return 'gif';
	if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
	if (ascii(0, 'BM')) return 'bmp';
	if (ascii(0, 'II*\x00') || ascii(0, 'MM\x00*')) return 'tiff';
	if (ascii(0, '%PDF')) return 'pdf';
	if (ascii(0, 'PK\x03\x04') || ascii(0, 'PK\x05\x06')) return 'zip';
	if (ascii(4, 'ftyp')) {
		const brand = bytes.toString('latin1', 8, 12);
		if (brand.startsWith('avi')) return 'avif';
		if (brand.startsWith('hei') || brand.startsWith('mif') || brand.startsWith('hev')) return 'heic';
	}
	const head = bytes.toString('utf8', 0, Math.min(bytes.length, 1024)).replace(/^\uFEFF/, '').trimStart();
	if (/^<svg[\s>]/.test(head) || (head.startsWith('<?xml') && head.includes('<svg')) || (head.startsWith('<!DOCTYPE svg'))) {
		return 'svg';
	}
	return undefined;
}

/** Whether bytes sniffed as `sniffed` may carry the extension `ext`. */
function sameKind(sniffed: string, ext: string): boolean {
	if (sniffed === 'heic') return ext === 'heic' || ext === 'heif';
	return CONTENT_TYPE_BY_EXT[sniffed] === CONTENT_TYPE_BY_EXT[ext];
}

function formatSize(bytes: number): string {
	return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

/**
 * Checks one image against the reference's limits and returns the Content-Type for its PUT.
 * `allowPdf` is false inside a ZIP.
 */
export function checkImage(fileName: string, bytes: Buffer, allowPdf = true): string {
	const ext = extensionOf(fileName);
	if (!bytes.length) {
		throw new InputProblem(`The file "${fileName}" is empty`, 'Check the node before this one passes the image itself, not just its name.');
	}
	if (ext === 'pdf' && !allowPdf) {
		throw new InputProblem(`"${fileName}" is a PDF, which bulk detection does not support`, 'Detect PDFs one at a time with Detect (only the first image in a PDF is analyzed).');
	}
	if (!CONTENT_TYPE_BY_EXT[ext]) {
		throw new InputProblem(
			ext ? `The file type ".${ext}" of "${fileName}" is not supported` : `The file "${fileName}" has no extension and no known image MIME type`,
			`Use one of ${SUPPORTED_LIST}, or set the File Name option with the right extension.`,
		);
	}
	if (bytes.length < MIN_IMAGE_BYTES) {
		throw new InputProblem(`The file "${fileName}" is too small (${bytes.length} bytes; at least 1 KB)`, 'Use a larger image, or check that the file was not truncated.');
	}
	if (bytes.length > MAX_IMAGE_BYTES) {
		throw new InputProblem(`The file "${fileName}" is too large (${formatSize(bytes.length)}; at most 10 MB)`, 'Compress or resize the image first.');
	}
	const sniffed = sniffExtension(bytes);
	if (!sniffed) {
		throw new InputProblem(`The file "${fileName}" is not an image: its bytes are not ${ext.toUpperCase()}`, 'Check the file is a real image and not, say, an HTML error page saved under an image name.');
	}
	if (!sameKind(sniffed, ext)) {
		throw new InputProblem(
			`The file "${fileName}" is named .${ext} but its bytes are ${sniffed.toUpperCase()}`,
			`Rename it to .${sniffed === 'heic' ? 'heic' : sniffed} (the File Name option does this), or convert the file.`,
		);
	}
	return CONTENT_TYPE_BY_EXT[ext];
}

/** A document id must be a UUID (the API's /detect `id` and every id it returns are). */
export function checkDocumentId(raw: unknown, what = 'Document ID'): string {
	const id = String(raw ?? '').trim();
	if (!id) throw new InputProblem(`${what} is empty`, 'Map the "id" field of an earlier Detect or Bulk Detect output into it.');
	if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
		throw new InputProblem(`${what} "${id.slice(0, 60)}" is not a valid ID`, 'IDs look like 77565038-9e3d-4e6a-8c80-e20785be5ee9: map the "id" field of an earlier output.');
	}
	return id.toLowerCase();
}

/** `generic`, `sheerid`, or `<instance_id>/<model>`. */
export function checkModel(raw: unknown): string | undefined {
	const model = String(raw ?? '').trim();
	if (!model) return undefined;
	if (/^(generic|sheerid)$/.test(model)) return model;
	if (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\/(generic|sheerid)$/.test(model)) return model;
	throw new InputProblem(`The Model "${model.slice(0, 60)}" is not valid`, 'Use "generic", "sheerid", or "<your-instance-id>/generic" for a dedicated instance.');
}

export function checkHttpUrl(raw: unknown, what = 'Image URL'): string {
	const url = String(raw ?? '').trim();
	if (!url) throw new InputProblem(`${what} is empty`, 'Enter the address of the image, starting with http:// or https://.');
	const parsed = URL.canParse(url) ? new URL(url) : undefined;
	if (!parsed) {
		throw new InputProblem(`${what} "${url.slice(0, 100)}" is not a valid URL`, 'Enter a full address starting with http:// or https://.');
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
		throw new InputProblem(`${what} must start with http:// or https://`, 'Enter a web address of the image.');
	}
	return parsed.href;
}
