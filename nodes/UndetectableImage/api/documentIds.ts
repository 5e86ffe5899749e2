// The same work always lands on the same document: a Detect document's ID is derived from what is checked, so a
// re-run (a retried webhook, a crashed worker's execution run again, a scheduled flow that sees the same folder)
// finds the earlier result instead of paying for it again.
import { createHash, createHmac } from 'crypto';
import type { IDataObject } from 'n8n-workflow';

/** The /detect fields that change a result: the same image with another of these is other work. */
const RESULT_FIELDS = ['model', 'generate_preview', 'generate_analysis_details', 'generate_heatmap_overlayed', 'document_type'] as const;

/**
 * The ID of attempt `attempt` (0, 1, ...) at checking `image` with these /detect fields: a UUID from an HMAC keyed
 * by the API key, so nobody without the key can derive or guess it. It is laid out as a version-4 UUID, the shape
 * the API takes for `id`, though it is derived, not random.
 */
export function derivedDocumentId(apiKey: string, image: Buffer, body: IDataObject, attempt: number): string {
	const fields = RESULT_FIELDS.map((name) => [name, body[name] ?? null]);
	const imageHash = createHash('sha256').update(image).digest('hex');
	const mac = createHmac('sha256', apiKey).update(JSON.stringify({ v: 1, imageHash, fields, attempt })).digest();
	mac[6] = (mac[6] & 0x0f) | 0x40; // version 4
	mac[8] = (mac[8] & 0x3f) | 0x80; // RFC 4122 variant
	const hex = mac.subarray(0, 16).toString('hex');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
