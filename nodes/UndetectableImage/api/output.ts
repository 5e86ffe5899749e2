import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

/** The answers /query gives, as far as the node reads them. */
export function isBulk(answer: IDataObject | null): boolean {
	return !!answer && Array.isArray(answer.results);
}

export function isFinal(status: unknown): boolean {
	return status === 'done' || status === 'failed';
}

function details(answer: IDataObject): IDataObject {
	const d = answer.result_details;
	return d && typeof d === 'object' && !Array.isArray(d) ? (d as IDataObject) : {};
}

export function heatmapStatusOf(answer: IDataObject): string | null {
	return (details(answer).heatmap_status as string | undefined) ?? null;
}

export function analysisStatusOf(answer: IDataObject): string | null {
	return (details(answer).analysis_results_status as string | undefined) ?? null;
}

/** The API's reason for a failed document. */
export function failureReason(answer: IDataObject): string {
	const d = details(answer);
	return String(d.error_message ?? d.message ?? answer.message ?? 'the service could not process the image');
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One image's simplified output: the fields a workflow branches on, flat, with stable names. */
export function simplifyImage(answer: IDataObject, fileName?: string): IDataObject {
	const d = details(answer);
	return {
		id: answer.id ?? null,
		status: answer.status ?? null,
		score: num(answer.result),
		verdict: (d.final_result as string | undefined) ?? null,
		confidence: num(d.confidence),
		detectionStep: num(d.detection_step),
		heatmapStatus: (d.heatmap_status as string | undefined) ?? null,
		heatmapUrl: (d.heatmap_url as string | undefined) ?? null,
		previewUrl: (answer.preview_url as string | undefined) ?? null,
		analysisStatus: (d.analysis_results_status as string | undefined) ?? null,
		analysis: (d.analysis_results as IDataObject | undefined) ?? null,
		fileName: fileName ?? (answer.filename as string | undefined) ?? null,
		...(answer.status === 'failed' ? { error: failureReason(answer) } : {}),
	};
}

export interface BulkCounts {
	expectedCount: number;
	done: number;
	failed: number;
	pending: number;
	skippedCount: number;
}

export function bulkCounts(answer: IDataObject, expectedCount?: number): BulkCounts {
	const results = (answer.results as IDataObject[] | undefined) ?? [];
	const skipped = (answer.skipped as IDataObject[] | undefined) ?? [];
	const count = (s: string) => results.filter((r) => r.status === s).length;
	return {
		expectedCount: expectedCount ?? results.length,
		done: count('done'),
		failed: count('failed'),
		pending: results.length - count('done') - count('failed'),
		skippedCount: skipped.length,
	};
}

/** One item for a whole bulk request. */
export function simplifyBatch(answer: IDataObject, expectedCount?: number): IDataObject {
	const results = (answer.results as IDataObject[] | undefined) ?? [];
	const skipped = (answer.skipped as IDataObject[] | undefined) ?? [];
	return {
		batchId: answer.id ?? null,
		status: answer.status ?? null,
		...bulkCounts(answer, expectedCount),
		results: results.map((entry) => simplifyImage(entry)),
		skipped: skipped.map((entry) => simplifyImage(entry)),
	};
}

export interface BulkOutputSettings {
	mode: 'perImage' | 'perBatch';
	simplify: boolean;
	expectedCount?: number;
}

/** The entries of a bulk answer: analyzed images first, then the files the service skipped. */
export function bulkEntries(answer: IDataObject): IDataObject[] {
	return [...((answer.results as IDataObject[] | undefined) ?? []), ...((answer.skipped as IDataObject[] | undefined) ?? [])];
}

/** A bulk answer as output items: one per image (skipped files too), or one for the whole batch. */
export function bulkOutput(answer: IDataObject, settings: BulkOutputSettings): INodeExecutionData[] {
	if (settings.mode === 'perBatch') {
		return [{ json: settings.simplify ? simplifyBatch(answer, settings.expectedCount) : answer }];
	}
	return bulkEntries(answer).map((entry) => ({ json: { batchId: answer.id, ...(settings.simplify ? simplifyImage(entry) : entry) } }));
}

/**
 * What an AI agent's model reads of one image's simplified result: the fields it can act on, with the same names
 * as the node's normal output, and the analysis when there is one (no URLs to files it cannot open).
 */
export function forModel(json: IDataObject): IDataObject {
	const out: IDataObject = {};
	for (const key of ['batchId', 'id', 'status', 'score', 'verdict', 'fileName', 'reused', 'error', 'skipReason']) {
		if (json[key] !== undefined && json[key] !== null) out[key] = json[key];
	}
	if (json.analysis) out.analysis = json.analysis;
	else if (typeof json.analysisStatus === 'string' && json.status === 'done') out.analysisStatus = json.analysisStatus;
	return out;
}

/** A file that "Every Image of the Item" passes over (no image, or one the API would refuse): said so, at no credit. */
export function skippedFile(file: { fileName?: string; field?: string } | undefined, reason: string): IDataObject {
	return { status: 'skipped', skipReason: reason, fileName: file?.fileName ?? null, binaryField: file?.field ?? null };
}

/** A result beside the input item's own fields (Include Other Input Fields): the result's fields win. */
export function besideInput(inputJson: IDataObject, json: IDataObject, include: boolean): IDataObject {
	return include ? { ...inputJson, ...json } : json;
}
