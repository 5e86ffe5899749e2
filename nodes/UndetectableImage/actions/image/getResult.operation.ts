import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { waitForImage } from '../../api/handshake';
import { bulkOutput, forModel, isBulk, simplifyImage } from '../../api/output';
import { checkDocumentId } from '../../helpers/files';
import { aboutDocument, notFound } from '../../transport/errors';
import type { OperationContext } from '../operation';
import { perItem } from '../operation';
import {
	concurrencyOption,
	deadlineFrom,
	documentIdParameter,
	optionsOf,
	optionsParameter,
	outputModeParameter,
	simplifyOption,
	timeoutOption,
	toolDescriptionParameter,
	waitForAnalysisOption,
	waitForHeatmapOption,
	waitForResultParameter,
	withToolDefault,
} from './parameters';

const DEFAULT_TIMEOUT = 300;

const TOOL_DESCRIPTION =
	'Gets the result of an earlier image detection by its ID, at no credit. Pass documentId: the id an earlier Detect returned ' +
	'(a UUID such as 77565038-9e3d-4e6a-8c80-e20785be5ee9). Returns id, status (pending, analyzing, done or failed), score ' +
	'(0-100: how likely the image is AI-generated; higher is more likely AI), verdict (such as "AI Generated" or "Real") and ' +
	'analysis when it is ready. It waits until the result is done, up to a few minutes. On failure it returns error and ' +
	'description (what to do): an unknown ID says it was not found.';

const properties: INodeProperties[] = [
	toolDescriptionParameter(TOOL_DESCRIPTION),
	...withToolDefault(
		documentIdParameter('The ID from Detect (one image) or Bulk Detect (a batch)'),
		"={{ $fromAI('documentId', 'The id of an earlier detection: a UUID such as 77565038-9e3d-4e6a-8c80-e20785be5ee9', 'string') }}",
	),
	waitForResultParameter('Whether to wait until the document is done. Off: return its state as it is now (pending, analyzing, done or failed).'),
	outputModeParameter,
	optionsParameter([concurrencyOption, simplifyOption, timeoutOption(DEFAULT_TIMEOUT, 'the result'), waitForAnalysisOption, waitForHeatmapOption]),
];

async function check(context: OperationContext, itemIndex: number): Promise<void> {
	checkDocumentId(context.n8n.getNodeParameter('documentId', itemIndex, ''));
	deadlineFrom(optionsOf(context.n8n, itemIndex), DEFAULT_TIMEOUT);
}

async function run(context: OperationContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const id = checkDocumentId(context.n8n.getNodeParameter('documentId', itemIndex, ''));
	// Every error names the document, a pause the API asks for past the Timeout included.
	const items = await aboutDocument(context.n8n, id, async () => await fetchResult(context, itemIndex, id));
	const simplify = optionsOf(context.n8n, itemIndex).simplify !== false;
	return context.tool && simplify ? items.map((item) => ({ json: forModel(item.json) })) : items;
}

async function fetchResult(context: OperationContext, itemIndex: number, id: string): Promise<INodeExecutionData[]> {
	const { n8n, api } = context;
	const options = optionsOf(n8n, itemIndex);
	const { deadline, timeoutSeconds } = deadlineFrom(options, DEFAULT_TIMEOUT);
	let answer: IDataObject | null;
	if (n8n.getNodeParameter('waitForResult', itemIndex, true)) {
		answer = await waitForImage(context, id, {
			deadline,
			timeoutSeconds,
			immediate: true,
			waitForHeatmap: options.waitForHeatmap === true,
			waitForAnalysis: options.waitForAnalysis === true,
			itemIndex,
		});
	} else {
		answer = await api.query(id, { itemIndex, deadline });
		if (answer === null) throw notFound(n8n, id, itemIndex);
	}
	if (isBulk(answer)) {
		const mode = n8n.getNodeParameter('outputMode', itemIndex, 'perImage') as 'perImage' | 'perBatch';
		return bulkOutput(answer, { mode, simplify: options.simplify !== false });
	}
	// A failed document is a result too: Get Result reports it rather than failing.
	return [{ json: options.simplify === false ? answer : simplifyImage(answer) }];
}

export const getResult = perItem(updateDisplayOptions({ show: { resource: ['image'], operation: ['getResult'] } }, properties), run, check);
