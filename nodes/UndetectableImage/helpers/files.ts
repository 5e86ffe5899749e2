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
	// "BM" alone starts many a text file: a BMP also has a DIB header of one of the known sizes at byte 14.
	if (ascii(0, 'BM') && bytes.length >= 18 && [12, 40, 52, 56, 64, 108, 124].includes(bytes.readUInt32LE(14))) return 'bmp';
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

/** The canonical extension for bytes of a kind (what a file with no usable name is uploaded as). */
const CANONICAL_EXT: Record<string, string> = { jpg: 'jpg', png: 'png', gif: 'gif', webp: 'webp', bmp: 'bmp', tiff: 'tiff', pdf: 'pdf', heic: 'heic', avif: 'avif', svg: 'svg' };

/** MIME types that say nothing about what a file is (S3, FTP and form uploads hand these out). */
const GENERIC_MIME = /^(application\/octet-stream|binary\/octet-stream|application\/binary|application\/unknown|application\/x-binary)$/i;

/** What a file will be uploaded as, decided by its bytes; `fromBytes` when its name or MIME type said otherwise or nothing. */
export interface ImageType {
	ext: string;
	contentType: string;
	fromBytes: boolean;
}

/** The supported extension a name or MIME type declares, if any. */
function declaredExt(fileName: string, mimeType: string | undefined): string | undefined {
	const fromName = extensionOf(fileName);
	if (CONTENT_TYPE_BY_EXT[fromName]) return fromName;
	const mime = (mimeType ?? '').split(';')[0].trim().toLowerCase();
	if (!mime || GENERIC_MIME.test(mime)) return undefined;
	const fromMime = EXT_BY_MIME[mime];
	return fromMime && CONTENT_TYPE_BY_EXT[fromMime] ? fromMime : undefined;
}

/**
 * The type a file is uploaded as: the one its first bytes show, whatever its name or MIME type say (the node names
 * the upload and sets its Content-Type itself, so a PNG named ".jpg", or an extensionless object served as
 * application/octet-stream, is simply a PNG). Bytes that are no format the API takes are a problem that says so;
 * `allowPdf` is false inside a ZIP.
 */
export function imageTypeOf(fileName: string, mimeType: string | undefined, head: Buffer, allowPdf = true): ImageType {
	const declared = declaredExt(fileName, mimeType);
	const sniffed = sniffExtension(head);
	if (sniffed && CANONICAL_EXT[sniffed]) {
		if (sniffed === 'pdf' && !allowPdf) {
			throw new InputProblem(`"${fileName}" is a PDF, which bulk detection does not support`, 'Detect PDFs one at a time with Detect (only the first image in a PDF is analyzed).');
		}
		const keep = declared !== undefined && sameKind(sniffed, declared);
		const ext = keep ? (declared as string) : CANONICAL_EXT[sniffed];
		return { ext, contentType: CONTENT_TYPE_BY_EXT[ext], fromBytes: !keep };
	}
	if (sniffed === 'zip') {
		throw new InputProblem(`The file "${fileName}" is a ZIP archive, not an image`, 'Check the images of a ZIP with Bulk Detect (Bulk Source "ZIP File").');
	}
	throw new InputProblem(
		declared
			? `The file "${fileName}" is not an image: its bytes are not ${declared.toUpperCase()}`
			: `The file "${fileName}" is not an image: neither its bytes nor its name show a type the API takes`,
		`Use one of ${SUPPORTED_LIST}. Check the file is a real image and not, say, an HTML error page saved under an image name.`,
	);
}

/** The name to upload under: the user's name cleaned as the API requires, with the extension of the type used. */
export function uploadNameFor(fileName: string | undefined, type: ImageType, fallback = 'image'): string {
	const clean = normaliseFileName(fileName, undefined, fallback);
	const ext = extensionOf(clean);
	const known = CONTENT_TYPE_BY_EXT[ext] !== undefined || ext === 'zip';
	const stem = known ? clean.slice(0, -(ext.length + 1)) || fallback : clean;
	if (known && ext === type.ext) return clean;
	const name = `${stem}.${type.ext}`;
	return name.length > 120 ? `${stem.slice(0, 110)}.${type.ext}` : name;
}

/** The sizes the API takes for one image (1 KB to 10 MB), checked from the size alone. */
export function checkImageSize(fileName: string, size: number): void {
	if (!size) throw new InputProblem(`The file "${fileName}" is empty`, 'Check the node before this one passes the image itself, not just its name.');
	if (size < MIN_IMAGE_BYTES) {
		throw new InputProblem(`The file "${fileName}" is too small (${size} bytes; at least 1 KB)`, 'Use a larger image, or check that the file was not truncated.');
	}
	if (size > MAX_IMAGE_BYTES) throw new InputProblem(`The file "${fileName}" is too large (${formatSize(size)}; at most 10 MB)`, 'Compress or resize the image first.');
}

/**
 * Checks one image in memory against the reference's limits and returns the type to upload it as (see
 * imageTypeOf). `allowPdf` is false inside a ZIP.
 */
export function checkImage(fileName: string, bytes: Buffer, allowPdf = true, mimeType?: string): ImageType {
	return checkSizeAndType(fileName, bytes.length, () => imageTypeOf(fileName, mimeType, bytes.subarray(0, 4096), allowPdf));
}

/**
 * Size and type, in the order that says most: an empty file is empty; then what it is (a 63-byte notes.txt is "not
 * an image" rather than "too small"); then whether an image is within the API's sizes.
 */
export function checkSizeAndType(fileName: string, size: number, type: () => ImageType): ImageType {
	if (!size) checkImageSize(fileName, size);
	const found = type();
	checkImageSize(fileName, size);
	return found;
}

/** A file's name without its extension, for the names of files made from it ("beach photo" of "beach photo.png"). */
export function stemOf(fileName: string): string {
	const base = fileName.split(/[\\/]/).pop() ?? fileName;
	const ext = extensionOf(base);
	return (ext ? base.slice(0, -(ext.length + 1)) : base) || 'image';
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
