// Orders, the request-validation demo (seed "How to remove boilerplate validation logic in your
// REST APIs with Amazon API Gateway request validation"): POST /orders checks the body against
// CreateOrders (validator body-only), GET /orders requires the Account-Id header (validator
// full); both are MOCK integrations answering the seed's bodies. Content types without a
// template are refused with 415 (passthrough NEVER).
import { Construct } from "constructs";
import { ROUTES } from "../../schemas/routes";
import type { ApiModels } from "../api-models";
import type { RestApi } from "../rest-api";

export const ORDERS_CREATED = '{"message" : "Orders successfully created"}';
/** The seed's GET /orders answer, verbatim. */
export const ORDERS_LIST =
  '[{"order-id" : "qrx987",\n   "type" : "STOCK",\n   "symbol" : "AMZN",\n   "shares" : 100,\n   "time" : "1488217405",\n   "state" : "COMPLETED"\n},\n{\n   "order-id" : "foo123",\n   "type" : "STOCK",\n   "symbol" : "BA",\n   "shares" : 100,\n   "time" : "1488213043",\n   "state" : "COMPLETED"\n}\n]';
const MOCK_200 = '{"statusCode": 200}';

export interface OrdersProps {
  api: RestApi;
  models: ApiModels;
}

export class Orders extends Construct {
  constructor(scope: Construct, id: string, props: OrdersProps) {
    super(scope, id);
    const mock = (body: string) => ({
      type: "MOCK" as const,
      requestTemplates: { "application/json": MOCK_200 },
      passthroughBehavior: "NEVER" as const,
      responses: [{ statusCode: "200", responseTemplates: { "application/json": body } }],
    });
    props.api.addMethod({ ...props.models.route(ROUTES.createOrders), integration: mock(ORDERS_CREATED) });
    props.api.addMethod({ ...props.models.route(ROUTES.listOrders), integration: mock(ORDERS_LIST) });
  }
}
