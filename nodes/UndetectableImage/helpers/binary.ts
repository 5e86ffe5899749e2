import type { IBinaryData, IExecuteFunctions } from 'n8n-workflow';

import { InputProblem } from '../transport/errors';

/**
 * The metadata of the file in an input item's binary property, or a problem that names the properties the item
 * does have. `whenNone` says how to get a file there when the item has no binary data at all.
 */
export function binaryMetadata(n8n: IExecuteFunctions, itemIndex: number, property: string, whenNone: string): IBinaryData {
	const binary = n8n.getInputData()[itemIndex].binary;
	if (!binary?.[property]) {
		const present = Object.keys(binary ?? {});
		throw new InputProblem(
			`Item ${itemIndex} has no binary property "${property}"`,
			present.length ? `Its binary properties are: ${present.join(', ')}. Set "Input Binary Field" to the right one.` : whenNone,
		);
	}
	return n8n.helpers.assertBinaryData(itemIndex, property);
}

/** The file's metadata and bytes (see binaryMetadata). */
export async function readBinary(n8n: IExecuteFunctions, itemIndex: number, property: string, whenNone: string): Promise<{ meta: IBinaryData; bytes: Buffer }> {
	const meta = binaryMetadata(n8n, itemIndex, property, whenNone);
	return { meta, bytes: await n8n.helpers.getBinaryDataBuffer(itemIndex, property) };
}

/** An input item's file without reading it: its metadata, its size, and a way to open it for an upload. */
export interface BinarySource {
	meta: IBinaryData;
	size: number;
	/** A fresh stream from n8n's binary data store (filesystem, database, S3 modes), or the bytes if held in memory. */
	open: () => Promise<NodeJS.ReadableStream | Buffer>;
}

export async function binarySource(n8n: IExecuteFunctions, itemIndex: number, property: string, whenNone: string): Promise<BinarySource> {
	const meta = binaryMetadata(n8n, itemIndex, property, whenNone);
	if (meta.id) {
		const id = meta.id;
		const { fileSize } = await n8n.helpers.getBinaryMetadata(id);
		return { meta, size: fileSize, open: async () => await n8n.helpers.getBinaryStream(id) };
	}
	return { meta, size: Buffer.byteLength(meta.data, 'base64'), open: async () => await n8n.helpers.getBinaryDataBuffer(itemIndex, property) };
}
