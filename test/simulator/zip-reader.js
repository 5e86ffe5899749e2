'use strict';
// Reads a ZIP's central directory: enough for the simulator's /bulk-upload (stored and deflated entries).
const zlib = require('zlib');

function readZip(buf) {
	let eocd = -1;
	for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
		if (buf.readUInt32LE(i) === 0x06054b50) {
			eocd = i;
			break;
		}
	}
	if (eocd < 0) throw new Error('not a zip');
	let count = buf.readUInt16LE(eocd + 10);
	let p = buf.readUInt32LE(eocd + 16);
	if (count === 0xffff || p === 0xffffffff) {
		// ZIP64 (zip -fz, or huge archives): the locator before the end record points at the 64-bit end record.
		const locator = eocd - 20;
		if (locator < 0 || buf.readUInt32LE(locator) !== 0x07064b50) throw new Error('bad zip64 locator');
		const record = Number(buf.readBigUInt64LE(locator + 8));
		if (buf.readUInt32LE(record) !== 0x06064b50) throw new Error('bad zip64 end record');
		count = Number(buf.readBigUInt64LE(record + 32));
		p = Number(buf.readBigUInt64LE(record + 48));
	}
	const entries = [];
	for (let n = 0; n < count; n++) {
		if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
		const method = buf.readUInt16LE(p + 10);
		let compressedSize = buf.readUInt32LE(p + 20);
		let size = buf.readUInt32LE(p + 24);
		const nameLen = buf.readUInt16LE(p + 28);
		const extraLen = buf.readUInt16LE(p + 30);
		const commentLen = buf.readUInt16LE(p + 32);
		let localOffset = buf.readUInt32LE(p + 42);
		// ZIP64 extra field (id 1): 64-bit values for those that are 0xffffffff above, in this order.
		const extra = buf.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
		for (let at = 0; at + 4 <= extra.length; at += 4 + extra.readUInt16LE(at + 2)) {
			if (extra.readUInt16LE(at) !== 1) continue;
			let q = at + 4;
			const next = () => ((q += 8), Number(extra.readBigUInt64LE(q - 8)));
			if (size === 0xffffffff) size = next();
			if (compressedSize === 0xffffffff) compressedSize = next();
			if (localOffset === 0xffffffff) localOffset = next();
		}
		const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
		p += 46 + nameLen + extraLen + commentLen;
		const lNameLen = buf.readUInt16LE(localOffset + 26);
		const lExtraLen = buf.readUInt16LE(localOffset + 28);
		const start = localOffset + 30 + lNameLen + lExtraLen;
		const raw = buf.subarray(start, start + compressedSize);
		const data = method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
		entries.push({ name, data, directory: name.endsWith('/') });
	}
	return entries;
}

module.exports = { readZip };
