import type { IDataObject } from 'n8n-workflow';

import { timing } from '../../transport/timing';
import { perItem } from '../operation';

export const getCredits = perItem([], async (context, itemIndex) => {
	const answer = await context.api.credits({ itemIndex, deadline: Date.now() + timing.checkCreditsBoundMs });
	const json: IDataObject = { credits: typeof answer.credits === 'number' ? answer.credits : null };
	// External integrations get `credits` only; the split is passed on when the API gives it.
	if (typeof answer.baseCredits === 'number') json.baseCredits = answer.baseCredits;
	if (typeof answer.boostCredits === 'number') json.boostCredits = answer.boostCredits;
	return [{ json }];
});
