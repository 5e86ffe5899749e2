'use strict';
// Runs workflows that hold the node through n8n-core's real execution engine (WorkflowExecute), with n8n's real
// helpers: HTTP (axios underneath), binary data in filesystem mode as n8n 2.x keeps it, credentials applied the
// way the n8n CLI applies a declarative `authenticate`. Only what has no engine of its own here is stood in for:
// the credential store (a map) and the trigger (a source node that emits the test's items).
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-ud-test-'));
// n8n-core reads these when it is first required.
Object.assign(process.env, {
	N8N_USER_FOLDER: userFolder,
	N8N_LOG_LEVEL: process.env.N8N_LOG_LEVEL || 'silent',
	// n8n 2.x keeps files on disk; n8n 1.x in memory ("default"), which test/engine-memory.test.js asks for.
	N8N_DEFAULT_BINARY_DATA_MODE: process.env.UD_TEST_BINARY_MODE || 'filesystem',
	N8N_DIAGNOSTICS_ENABLED: 'false',
	N8N_ENCRYPTION_KEY: 'test-encryption-key',
});

// The DI container n8n-core itself uses (other n8n packages in the tree may bring another copy).
const { Container } = require(require.resolve('@n8n/di', { paths: [path.dirname(require.resolve('n8n-core'))] }));
const core = require('n8n-core');
const wf = require('n8n-workflow');

const NODE_TYPE = 'n8n-nodes-undetectable-image.undetectableImage';
const SOURCE_TYPE = 'test.source';
const CREDENTIAL_TYPE = 'undetectableImageApi';

/**
 * The node's schedule (nodes/UndetectableImage/transport/timing.ts): the engine loads the node in this process, so
 * this is the same module object the node reads. Tests run on FAST; a test about timing puts PRODUCTION back.
 */
const timingModule = path.join(ROOT, 'dist', 'nodes', 'UndetectableImage', 'transport', 'timing.js');
const PRODUCTION = structuredClone(require(timingModule).timing);
const FAST = {
	...PRODUCTION,
	backoffBaseMs: 20,
	backoffMaxMs: 200,
	firstQueryMs: { result: 60, heatmap: 60, analysis: 80, bulk: 60 },
	queryIntervalMs: 40,
	maxQueryIntervalMs: 400,
	probeIntervalMs: 30,
	assetRetryMs: 50,
};
/** Sets the node's schedule for the tests that follow (FAST or PRODUCTION, or a mix). */
function useTiming(values) {
	Object.assign(require(timingModule).timing, structuredClone(values));
}

let enginePromise;
/** The engine, set up once per test process. */
function getEngine() {
	enginePromise ??= createEngine();
	return enginePromise;
}

const inputs = new Map(); // run key -> items the source node emits

/** The stand-in trigger: emits the test's items, writing their binaries through n8n's real binary data helpers. */
class SourceNode {
	description = {
		displayName: 'Test Source',
		name: SOURCE_TYPE,
		group: ['input'],
		version: 1,
		description: 'Emits the items of a test',
		defaults: { name: 'Source' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [{ displayName: 'Key', name: 'key', type: 'string', default: '' }],
	};

	async execute() {
		const items = inputs.get(this.getNodeParameter('key', 0));
		const out = [];
		for (const [i, item] of items.entries()) {
			const binary = {};
			for (const [prop, file] of Object.entries(item.binary ?? {})) {
				// `bytes` may be a function, so large inputs are made one at a time and not held by the test.
				const bytes = typeof file.bytes === 'function' ? file.bytes() : file.bytes;
				binary[prop] = await this.helpers.prepareBinaryData(bytes, file.fileName, file.mimeType);
			}
			// Files a node keeps in the JSON itself ({ Images: [file, ...] }, as the Form Trigger does in combined mode).
			const json = { ...(item.json ?? {}) };
			for (const [key, list] of Object.entries(item.filesInJson ?? {})) {
				const prepared = [];
				for (const file of [].concat(list)) prepared.push(await this.helpers.prepareBinaryData(file.bytes, file.fileName, file.mimeType));
				json[key] = Array.isArray(list) ? prepared : prepared[0];
			}
			out.push({ json, ...(item.binary ? { binary } : {}), pairedItem: { item: i } });
		}
		return [out];
	}
}

async function createEngine() {
	const binaryData = Container.get(core.BinaryDataService);
	await binaryData.init();
	// n8n-core starts a 60 s cleanup interval for SSH clients on first use; it must not keep the test process alive.
	const { SSHClientsManager } = require(path.join(path.dirname(require.resolve('n8n-core')), 'execution-engine', 'ssh-clients-manager'));
	Container.get(SSHClientsManager).cleanupTimer?.unref?.();

	const loader = new core.PackageDirectoryLoader(ROOT);
	await loader.loadAll();
	useTiming(FAST);
	const toolVariants = new Map();
	const nodeTypes = {
		getByName: (name) => {
			if (name === SOURCE_TYPE) return new SourceNode();
			const short = name.split('.').pop();
			if (short.endsWith('Tool')) {
				if (!toolVariants.has(short)) toolVariants.set(short, toolVariantOf(loader.nodeTypes[short.slice(0, -4)]?.type));
				return toolVariants.get(short);
			}
			return loader.nodeTypes[short]?.type;
		},
		getByNameAndVersion(name, version) {
			const type = this.getByName(name);
			if (!type) throw new Error(`Unknown node type ${name}`);
			return wf.NodeHelpers.getVersionedNodeType(type, version);
		},
		getKnownTypes: () => ({}),
	};
	const credentialType = loader.credentialTypes[CREDENTIAL_TYPE].type;
	return new Engine(nodeTypes, credentialType, binaryData, loader);
}

/**
 * The Tool variant of a `usableAsTool` node as n8n's CLI registers it (n8n/dist/tool-generation): the same class,
 * its description with the replacements applied, named "<name>Tool". Its main input and output stay, so the test
 * source can feed it the model's arguments as the agent's engine request does.
 */
function toolVariantOf(type) {
	if (!type?.description?.usableAsTool) return undefined;
	const replacements = typeof type.description.usableAsTool === 'object' ? type.description.usableAsTool.replacements : {};
	const description = { ...structuredClone({ ...type.description, usableAsTool: undefined }), ...replacements };
	description.name += 'Tool';
	description.displayName += ' Tool';
	const variant = Object.create(type);
	variant.description = description;
	return variant;
}

/** Resolves `={{$credentials.x}}` (and any expression) against the credential, as n8n's CredentialsHelper does. */
function resolve(value, credentials, workflow, node) {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	return workflow.expression.getParameterValue(value, null, 0, 0, node.name, [], 'internal', { $credentials: credentials });
}

class CredentialsHelper {
	constructor(store, credentialType) {
		this.store = store;
		this.credentialType = credentialType;
	}
	getParentTypes() {
		return [];
	}
	async authenticate(credentials, typeName, requestOptions, workflow, node) {
		const auth = this.credentialType.authenticate;
		if (typeName !== CREDENTIAL_TYPE || !auth || auth.type !== 'generic') return requestOptions;
		const out = { ...requestOptions };
		for (const part of ['headers', 'qs', 'body']) {
			const values = auth.properties[part];
			if (!values) continue;
			out[part] = { ...(out[part] ?? {}) };
			for (const [k, v] of Object.entries(values)) out[part][k] = resolve(v, credentials, workflow, node);
		}
		return out;
	}
	async preAuthentication() {
		return undefined;
	}
	async getCredentials() {
		throw new Error('not used');
	}
	async getDecrypted(_additionalData, nodeCredentials) {
		const data = this.store.get(nodeCredentials.id);
		if (!data) throw new Error(`No credential ${nodeCredentials.id}`);
		return { ...data };
	}
	async updateCredentials() {}
	async updateCredentialsOauthTokenData() {}
	getCredentialsProperties() {
		return this.credentialType.properties;
	}
}

let runCounter = 0;

class Engine {
	constructor(nodeTypes, credentialType, binaryData, loader) {
		this.nodeTypes = nodeTypes;
		this.credentialType = credentialType;
		this.binaryData = binaryData;
		this.loader = loader;
		this.credentials = new Map();
		this.credentialsHelper = new CredentialsHelper(this.credentials, credentialType);
	}

	/**
	 * Runs Source -> the node, and returns what n8n recorded for the node.
	 * @param {object} o
	 * @param {object} o.parameters the node's parameters
	 * @param {Array<{json?: object, binary?: Record<string, {bytes: Buffer, fileName: string, mimeType: string}>}>} [o.items]
	 * @param {{apiKey: string, baseUrl?: string, storageBaseUrl?: string}} o.credentials
	 * @param {boolean} [o.continueOnFail]
	 */
	async run({ parameters, items = [{ json: {} }], credentials, continueOnFail = false, cancelAfterMs, tool = false, settings = {} }) {
		const key = `run-${++runCounter}`;
		inputs.set(key, items);
		this.credentials.set(key, credentials);
		const source = {
			id: 'source',
			name: 'Source',
			type: SOURCE_TYPE,
			typeVersion: 1,
			position: [0, 0],
			parameters: { key },
		};
		const node = {
			id: 'node',
			name: 'Undetectable',
			type: tool ? `${NODE_TYPE}Tool` : NODE_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters,
			credentials: { [CREDENTIAL_TYPE]: { id: key, name: 'Test credential' } },
			...(continueOnFail ? { onError: 'continueRegularOutput' } : {}),
		};
		const connections = { Source: { main: [[{ node: node.name, type: 'main', index: 0 }]] } };
		const workflow = new wf.Workflow({ id: 'wf-test', name: 'test', nodes: [source, node], connections, active: false, nodeTypes: this.nodeTypes, settings });
		const executionId = key;
		const hooks = new core.ExecutionLifecycleHooks('manual', executionId, { id: 'wf-test', name: 'test', nodes: [source, node], connections, active: false, settings });
		const additionalData = {
			hooks,
			executionId,
			credentialsHelper: this.credentialsHelper,
			currentNodeExecutionIndex: 0,
			restApiUrl: 'http://127.0.0.1:5678/rest',
			instanceBaseUrl: 'http://127.0.0.1:5678/',
			webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
			webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
			webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
			formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
			variables: {},
			userId: 'test-user',
			executionTimeoutTimestamp: undefined,
			setExecutionStatus: () => {},
			sendDataToUI: () => {},
			logAiEvent: () => {},
			getRunExecutionData: async () => undefined,
		};
		const runData = wf.createRunExecutionData({
			executionData: { nodeExecutionStack: [{ node: source, data: { main: [[{ json: {} }]] }, source: null }] },
		});
		const execute = new core.WorkflowExecute(additionalData, 'manual', runData);
		const running = execute.processRunExecutionData(workflow);
		// Cancel as n8n does when a user stops the execution: its abort signal fires, and the run ends once the
		// node's execute() has returned (`stoppedAfterCancelMs` says how long that took).
		let cancelledAt;
		const canceller = cancelAfterMs === undefined ? undefined : setTimeout(() => ((cancelledAt = Date.now()), running.cancel()), cancelAfterMs);
		const result = await running;
		clearTimeout(canceller);
		const stoppedAfterCancelMs = cancelledAt === undefined ? undefined : Date.now() - cancelledAt;
		inputs.delete(key);
		this.credentials.delete(key);

		const task = result.data.resultData.runData[node.name]?.[0];
		const error = task?.error ?? result.data.resultData.error;
		return {
			stoppedAfterCancelMs,
			/** The node's parameters as the engine resolved them (defaults of the variant that ran filled in). */
			node: workflow.getNode(node.name),
			items: task?.data?.main?.[0] ?? [],
			error,
			/** Everything n8n keeps of the run, serialised as n8n would store or show it. */
			serialised: wf.jsonStringify(result, { replaceCircularRefs: true }),
		};
	}

	/** The bytes of an output binary, read back through n8n's binary data service. */
	async readBinary(binary) {
		if (binary.id) return this.binaryData.getAsBuffer(binary);
		return Buffer.from(binary.data, 'base64');
	}
}

module.exports = { getEngine, userFolder, NODE_TYPE, useTiming, FAST, PRODUCTION, wf };
