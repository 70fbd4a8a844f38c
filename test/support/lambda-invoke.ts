/**
 * A Lambda function behind aws-sdk-client-mock's InvokeCommand, answering as Lambda's RequestResponse does:
 * the handler's result as JSON, or `FunctionError` with `{errorType, errorMessage, trace}` when it throws.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An Invoke answer's Payload, as the SDK hands it over. */
export const invokePayload = (text: string) =>
  Object.assign(encoder.encode(text), { transformToString: () => text });

export const answerInvokeWith =
  (functionName: string, run: (event: unknown) => Promise<unknown>) =>
  async (input: { FunctionName?: string; Payload?: Uint8Array }) => {
    if (input.FunctionName !== functionName) throw new Error(`unexpected function ${input.FunctionName}`);
    const event = JSON.parse(decoder.decode(input.Payload)) as unknown;
    try {
      return { StatusCode: 200, Payload: invokePayload(JSON.stringify(await run(event))) };
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      return {
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: invokePayload(JSON.stringify({ errorType: name, errorMessage: message, trace: [] })),
      };
    }
  };
