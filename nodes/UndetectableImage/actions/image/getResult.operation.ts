import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { waitForImage } from '../../api/handshake';
import { bulkOutput, isBulk, simplifyImage } from '../../api/output';
import { checkDocumentId } from '../../helpers/files';
import { notFound } from '../../transport/errors';
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
	waitForAnalysisOption,
	waitForHeatmapOption,
	waitForResultParameter,
} from './parameters';

const DEFAULT_TIMEOUT = 300;

const properties: INodeProperties[] = [
	documentIdParameter('The ID from Detect (one image) or Bulk Detect (a batch)'),
	waitForResultParameter('Whether to wait until the document is done. Off: return its state as it is now (pending, analyzing, done or failed).'),
	outputModeParameter,
	optionsParameter([concurrencyOption, simplifyOption, timeoutOption(DEFAULT_TIMEOUT, 'the result'), waitForAnalysisOption, waitForHeatmapOption]),
];

async function check(context: OperationContext, itemIndex: number): Promise<void> {
	checkDocumentId(context.n8n.getNodeParameter('documentId', itemIndex, ''));
	deadlineFrom(optionsOf(context.n8n, itemIndex), DEFAULT_TIMEOUT);
}

async function run(context: OperationContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const { n8n, api } = context;
	const id = checkDocumentId(n8n.getNodeParameter('documentId', itemIndex, ''));
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
