// Mapping templates of the Comments API (seed "Using Amazon API Gateway as a proxy for
// DynamoDB"), with straight quotes. The seed pasted client strings into JSON as they came, so a
// quote in a message broke the request; here every client string goes through
// $util.escapeJavaScript, whose \' (not a JSON escape) is turned back into '.

const json = (expression: string) => `$util.escapeJavaScript(${expression}).replaceAll("\\\\'","'")`;

/** POST /comments -> PutItem; commentId is API Gateway's request id, createdAt its clock (epoch ms). */
export function putCommentRequest(table: string): string {
  return `{
"TableName": "${table}",
"Item": {
"commentId": {
"S": "$context.requestId"
},
"pageId": {
"S": "${json("$input.path('$.pageId')")}"
},
"userName": {
"S": "${json("$input.path('$.userName')")}"
},
"message": {
"S": "${json("$input.path('$.message')")}"
},
"createdAt": {
"N": "$context.requestTimeEpoch"
}
}
}`;
}

export const PUT_COMMENT_RESPONSE = `{"commentId": "$context.requestId"}`;

/** GET /comments/{pageId} -> Query on the page's index. */
export function queryCommentsRequest(table: string, index: string): string {
  return `{
"TableName": "${table}",
"IndexName": "${index}",
"KeyConditionExpression": "pageId = :v1",
"ExpressionAttributeValues": {
":v1": {
"S": "${json("$input.params('pageId')")}"
}
}
}`;
}

/** The seed's response template: the items in the shape the client posted. */
export const QUERY_COMMENTS_RESPONSE = `#set($inputRoot = $input.path('$'))
{
"comments": [
#foreach($elem in $inputRoot.Items) {
"commentId": "$elem.commentId.S",
"userName": "${json("$elem.userName.S")}",
"message": "${json("$elem.message.S")}"
}#if($foreach.hasNext),#end
#end
]
}`;

/** DynamoDB refused the call: the client learns the status class, the detail goes to the logs. */
export const SERVICE_ERROR_RESPONSE = `{"message": "The comments store refused the request", "requestId": "$context.requestId"}`;
