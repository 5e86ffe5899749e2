import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { isBulk, simplifyImage } from '../../api/output';
import { checkDocumentId } from '../../helpers/files';
import type { Operation, RunContext } from '../common';
import {
	concurrencyOption,
	deadlineFor,
	documentIdParameter,
	optionsOf,
	notFound,
	optionsParameter,
	outputModeParameter,
	simplifyOption,
	timeoutOption,
	waitForAnalysisOption,
	waitForDocument,
	waitForHeatmapOption,
	waitForResultParameter,
} from '../common';
import { bulkOutput } from './bulkDetect.operation';

const show = { resource: ['image'], operation: ['getResult'] };
const DEFAULT_TIMEOUT = 300;

export const description: INodeProperties[] = [
	documentIdParameter(show, 'The ID from Detect Image (one image) or Bulk Detect (a batch)'),
	waitForResultParameter(show, 'Whether to wait until the document is done. Off: return its state as it is now (pending, analyzing, done or failed).'),
	outputModeParameter(show),
	optionsParameter(show, [concurrencyOption, simplifyOption, timeoutOption(DEFAULT_TIMEOUT, 'the result'), waitForAnalysisOption, waitForHeatmapOption]),
];

export async function execute(run: RunContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const { fn, api } = run;
	const id = checkDocumentId(fn.getNodeParameter('documentId', itemIndex, ''));
	const options = optionsOf(fn, itemIndex);
	const { deadline, timeoutSeconds } = deadlineFor(options, DEFAULT_TIMEOUT);
	let answer: IDataObject | null;
	if (fn.getNodeParameter('waitForResult', itemIndex, true)) {
		answer = await waitForDocument(run, id, {
			deadline,
			timeoutSeconds,
			since: Date.now(),
			immediate: true,
			waitForHeatmap: options.waitForHeatmap === true,
			waitForAnalysis: options.waitForAnalysis === true,
			itemIndex,
		});
	} else {
		answer = await api.query(id, itemIndex);
		if (answer === null) throw notFound(fn, id, itemIndex);
	}
	if (isBulk(answer)) {
		const mode = fn.getNodeParameter('outputMode', itemIndex, 'perImage') as string;
		return bulkOutput(answer, { mode, simplify: options.simplify !== false });
	}
	// A failed document is a result too: Get Result reports it rather than failing.
	return [{ json: options.simplify === false ? answer : simplifyImage(answer) }];
}

export const getResult: Operation = { description, execute };
