// A small stored (uncompressed) ZIP writer and a central-directory reader. Images are compressed already, so
// storing them costs little, and it needs no runtime dependency.

const CRC_TABLE = (() => {
	const t = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		t[n] = c >>> 0;
	}
	return t;
})();

export function crc32(bytes: Buffer): number {
	let c = 0xffffffff;
	for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

export interface ZipEntryPlan {
	name: string;
	size: number;
	crc: number;
}

const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const END_RECORD = 22;

/** The size of the ZIP that holds these entries. */
export function zipSize(entries: ZipEntryPlan[]): number {
	let total = END_RECORD;
	for (const e of entries) total += LOCAL_HEADER + CENTRAL_HEADER + 2 * Buffer.byteLength(e.name) + e.size;
	return total;
}

/**
 * Writes a stored ZIP straight into one buffer of its final size, asking for each entry's bytes in turn, so that
 * building it holds the ZIP and one image at a time, never a second copy of all images.
 */
export async function writeStoredZip(entries: ZipEntryPlan[], bytesOf: (index: number) => Promise<Buffer>): Promise<Buffer> {
	const zip = Buffer.alloc(zipSize(entries));
	const offsets: number[] = [];
	let p = 0;
	// Fixed DOS date/time (1980-01-01 00:00): the archive is a transport envelope, not an archive to keep.
	const dosTime = 0;
	const dosDate = (0 << 9) | (1 << 5) | 1;
	for (let i = 0; i < entries.length; i++) {
		const e = entries[i];
		const name = Buffer.from(e.name, 'utf8');
		const bytes = await bytesOf(i);
		if (bytes.length !== e.size || crc32(bytes) !== e.crc) {
			throw new Error(`The file "${e.name}" changed while the ZIP was being built`);
		}
		offsets.push(p);
		zip.writeUInt32LE(0x04034b50, p);
		zip.writeUInt16LE(20, p + 4); // version needed
		zip.writeUInt16LE(0x0800, p + 6); // UTF-8 names
		zip.writeUInt16LE(0, p + 8); // stored
		zip.writeUInt16LE(dosTime, p + 10);
		zip.writeUInt16LE(dosDate, p + 12);
		zip.writeUInt32LE(e.crc, p + 14);
		zip.writeUInt32LE(e.size, p + 18);
		zip.writeUInt32LE(e.size, p + 22);
		zip.writeUInt16LE(name.length, p + 26);
		zip.writeUInt16LE(0, p + 28);
		name.copy(zip, p + LOCAL_HEADER);
		bytes.copy(zip, p + LOCAL_HEADER + name.length);
		p += LOCAL_HEADER + name.length + e.size;
	}
	const centralStart = p;
	for (let i = 0; i < entries.length; i++) {
		const e = entries[i];
		const name = Buffer.from(e.name, 'utf8');
		zip.writeUInt32LE(0x02014b50, p);
		zip.writeUInt16LE(20, p + 4); // version made by
		zip.writeUInt16LE(20, p + 6); // version needed
		zip.writeUInt16LE(0x0800, p + 8);
		zip.writeUInt16LE(0, p + 10);
		zip.writeUInt16LE(dosTime, p + 12);
		zip.writeUInt16LE(dosDate, p + 14);
		zip.writeUInt32LE(e.crc, p + 16);
		zip.writeUInt32LE(e.size, p + 20);
		zip.writeUInt32LE(e.size, p + 24);
		zip.writeUInt16LE(name.length, p + 28);
		// extra, comment, disk start, internal attributes, external attributes: zero
		zip.writeUInt32LE(offsets[i], p + 42);
		name.copy(zip, p + CENTRAL_HEADER);
		p += CENTRAL_HEADER + name.length;
	}
	zip.writeUInt32LE(0x06054b50, p);
	zip.writeUInt16LE(entries.length, p + 8);
	zip.writeUInt16LE(entries.length, p + 10);
	zip.writeUInt32LE(p - centralStart, p + 12);
	zip.writeUInt32LE(centralStart, p + 16);
	return zip;
}

export interface ZipListing {
	name: string;
	size: number;
	directory: boolean;
}

/**
 * The entries of a ZIP from its central directory (names and uncompressed sizes), or undefined if unreadable;
 * ZIP64 archives too (from `zip -fz`, or with more than 65,535 entries or 4 GB): their directory's place and
 * their sizes are in 64-bit records. `zip` may be only the ZIP's tail: `startsAt` is where it starts in the whole
 * file (the directory must be in it).
 */
export function listZip(zip: Buffer, startsAt = 0): ZipListing[] | undefined {
	const fits = (at: number, length: number) => at >= 0 && at + length <= zip.length;
	let end = -1;
	for (let i = zip.length - END_RECORD; i >= Math.max(0, zip.length - END_RECORD - 0xffff); i--) {
		if (zip.readUInt32LE(i) === 0x06054b50) {
			end = i;
			break;
		}
	}
	if (end < 0) return undefined;
	let count = zip.readUInt16LE(end + 10);
	let directory = zip.readUInt32LE(end + 16);
	if (count === 0xffff || directory === 0xffffffff) {
		// ZIP64: a locator right before the end record points at the ZIP64 end record, which has the real values.
		const locator = end - 20;
		if (!fits(locator, 20) || zip.readUInt32LE(locator) !== 0x07064b50) return undefined;
		const record = Number(zip.readBigUInt64LE(locator + 8)) - startsAt;
		if (!fits(record, 56) || zip.readUInt32LE(record) !== 0x06064b50) return undefined;
		count = Number(zip.readBigUInt64LE(record + 32));
		directory = Number(zip.readBigUInt64LE(record + 48));
	}
	let p = directory - startsAt;
	const out: ZipListing[] = [];
	for (let n = 0; n < count; n++) {
		if (!fits(p, CENTRAL_HEADER) || zip.readUInt32LE(p) !== 0x02014b50) return undefined;
		const nameLength = zip.readUInt16LE(p + 28);
		const extraLength = zip.readUInt16LE(p + 30);
		if (!fits(p + CENTRAL_HEADER, nameLength + extraLength)) return undefined;
		const name = zip.toString('utf8', p + CENTRAL_HEADER, p + CENTRAL_HEADER + nameLength);
		let size = zip.readUInt32LE(p + 24);
		if (size === 0xffffffff) {
			const real = zip64Size(zip.subarray(p + CENTRAL_HEADER + nameLength, p + CENTRAL_HEADER + nameLength + extraLength));
			if (real === undefined) return undefined;
			size = real;
		}
		out.push({ name, size, directory: name.endsWith('/') });
		p += CENTRAL_HEADER + nameLength + extraLength + zip.readUInt16LE(p + 32);
	}
	return out;
}

/** The uncompressed size from an entry's ZIP64 extra field (id 1; the size comes first when it is there). */
function zip64Size(extra: Buffer): number | undefined {
	for (let at = 0; at + 4 <= extra.length; ) {
		const id = extra.readUInt16LE(at);
		const length = extra.readUInt16LE(at + 2);
		if (id === 0x0001 && length >= 8 && at + 12 <= extra.length) return Number(extra.readBigUInt64LE(at + 4));
		at += 4 + length;
	}
	return undefined;
}

/** The first and last bytes of a ZIP read as a stream: enough to tell what it is and to list it, never all of it. */
export interface ZipEnds {
	head: Buffer;
	tail: Buffer;
	/** Where `tail` starts in the whole file. */
	tailStart: number;
}

/** Reads a stream through, keeping its first `headBytes` and (at least) its last `tailBytes`. */
export async function readEnds(stream: AsyncIterable<Buffer | string>, headBytes: number, tailBytes: number): Promise<ZipEnds> {
	const head: Buffer[] = [];
	let headLength = 0;
	const tail: Buffer[] = [];
	let tailLength = 0;
	let total = 0;
	for await (const piece of stream) {
		const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
		if (headLength < headBytes) {
			head.push(chunk.subarray(0, headBytes - headLength));
			headLength += Math.min(chunk.length, headBytes - headLength);
		}
		tail.push(chunk);
		tailLength += chunk.length;
		total += chunk.length;
		while (tail.length > 1 && tailLength - tail[0].length >= tailBytes) tailLength -= (tail.shift() as Buffer).length;
	}
	return { head: Buffer.concat(head), tail: Buffer.concat(tail), tailStart: total - tailLength };
}
