// The echo function for AWS's Node.js runtime interface client: responds with
// the event, as bench/runtime/echo.c does on ours.
export const handler = async (event) => event;
