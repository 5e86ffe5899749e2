import type { IDataObject, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { Operation, RunContext } from '../common';

export const description: INodeProperties[] = [];

export async function execute(run: RunContext, itemIndex: number): Promise<INodeExecutionData[]> {
	const answer = await run.api.credits(itemIndex);
	const json: IDataObject = { credits: typeof answer.credits === 'number' ? answer.credits : null };
	// External integrations get `credits` only; the split is passed on when the API gives it.
	if (typeof answer.baseCredits === 'number') json.baseCredits = answer.baseCredits;
	if (typeof answer.boostCredits === 'number') json.boostCredits = answer.boostCredits;
	return [{ json }];
}

export const getCredits: Operation = { description, execute };
