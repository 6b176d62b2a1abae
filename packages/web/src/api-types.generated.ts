/**
 * Generated from the query API's OpenAPI document (/openapi.json) by
 * packages/web/scripts/api-types.mjs: do not edit. After changing a route of
 * packages/api, rebuild it and run: npm run api-types -w @tidemark/web
 */
export interface paths {
    "/api/analytics-monitoring/ai/prices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Token prices in force for the project (built-in, configured, the project’s own), per million tokens
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            currency: string;
                            prices: {
                                input_per_million: number;
                                model: string;
                                output_per_million: number;
                                /** @enum {string} */
                                source: "builtin" | "config" | "project";
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /**
         * Sets the project's price of models (per million prompt and completion tokens)
         * @description Needs a key with role admin (or admin).
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        prices: {
                            input_per_million: number;
                            /** @description model name or prefix; "default" prices every model without a match */
                            model: string;
                            output_per_million: number;
                        }[];
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            currency: string;
                            prices: {
                                input_per_million: number;
                                model: string;
                                output_per_million: number;
                                /** @enum {string} */
                                source: "builtin" | "config" | "project";
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        /**
         * Removes the project's own price of a model (the configured or built-in price applies again)
         * @description Needs a key with role admin (or admin).
         */
        delete: {
            parameters: {
                query: {
                    model: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deleted: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/ai/quota": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Token quota of the current cycle: used, total, usage percent, remaining, reset date
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            currency: string;
                            cycle_start: string;
                            estimated_cost: number;
                            over_quota: boolean;
                            remaining: number | null;
                            reset_date: string;
                            reset_day: number;
                            timezone: string;
                            /** @description null: no quota */
                            tokens_total: number | null;
                            tokens_used: number;
                            usage_percent: number | null;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/ai/roi": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * ROI estimate: conversations the AI resolved without a human, saved cost net of token cost, equivalent headcount (configurable cost model)
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description last day, inclusive; default today */
                    end_date?: string;
                    /** @description first day (YYYY-MM-DD, in timezone); default the 1st of the current month */
                    start_date?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            ai_cost: number;
                            auto_resolve_rate: number | null;
                            auto_resolved: number;
                            cost_model: {
                                agent_monthly_capacity: number | null;
                                agent_monthly_cost: number;
                                cost_per_human_conversation: number;
                            };
                            currency: string;
                            days: number;
                            end_date: string;
                            equivalent_headcount: number | null;
                            gross_saving: number;
                            saved_cost: number;
                            sessions: number;
                            start_date: string;
                            timezone: string;
                            transferred: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/ai/settings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The project's quota and ROI settings: the values in force and the project's own (null = platform default)
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            effective: {
                                agent_monthly_cost: number;
                                cost_per_human_conversation: number;
                                currency: string;
                                monthly_token_quota: number;
                                quota_reset_day: number;
                                quota_timezone: string;
                            };
                            /** @description the project's own values; null: the platform default */
                            project: {
                                agent_monthly_cost: number | null;
                                cost_per_human_conversation: number | null;
                                monthly_token_quota: number | null;
                                quota_reset_day: number | null;
                                quota_timezone: string | null;
                            };
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /**
         * Sets the project's quota and ROI settings; omitted fields stay, null returns a field to the platform default
         * @description Needs a key with role admin (or admin).
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description ROI: monthly cost of one human agent; null = default */
                        agent_monthly_cost?: number | null;
                        /** @description ROI: cost of a conversation a human handles; null = default */
                        cost_per_human_conversation?: number | null;
                        /** @description tokens per cycle; 0 = no quota; null = the platform default */
                        monthly_token_quota?: number | null;
                        /** @description day of month (1-28) the cycle starts; null = default */
                        quota_reset_day?: number | null;
                        /** @description zone of the reset day; null = UTC */
                        quota_timezone?: string | null;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            effective: {
                                agent_monthly_cost: number;
                                cost_per_human_conversation: number;
                                currency: string;
                                monthly_token_quota: number;
                                quota_reset_day: number;
                                quota_timezone: string;
                            };
                            /** @description the project's own values; null: the platform default */
                            project: {
                                agent_monthly_cost: number | null;
                                cost_per_human_conversation: number | null;
                                monthly_token_quota: number | null;
                                quota_reset_day: number | null;
                                quota_timezone: string | null;
                            };
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/ai/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Token usage and estimated cost of the project per model and per day (message.ai / llm.usage events)
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description last day, inclusive; default today */
                    end_date?: string;
                    /** @description first day (YYYY-MM-DD, in timezone); default the 1st of the current month */
                    start_date?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            currency: string;
                            daily: {
                                calls: number;
                                date: string;
                                estimated_cost: number;
                                total_tokens: number;
                            }[];
                            end_date: string;
                            models: {
                                calls: number;
                                completion_tokens: number;
                                estimated_cost: number;
                                model: string;
                                other_tokens: number;
                                price: {
                                    input_per_million: number;
                                    matched: string;
                                    output_per_million: number;
                                    source: string;
                                };
                                prompt_tokens: number;
                                total_tokens: number;
                            }[];
                            project_id: string;
                            start_date: string;
                            timezone: string;
                            totals: {
                                calls: number;
                                completion_tokens: number;
                                estimated_cost: number;
                                other_tokens: number;
                                prompt_tokens: number;
                                total_tokens: number;
                            };
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/active": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Active alerts (pending, firing, recovering), firing first; with acknowledgement and what mutes them
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description at most this many (default 500, ≤ 5000) */
                    limit?: number;
                    rule?: string;
                    severity?: "INFO" | "WARNING" | "CRITICAL";
                    /** @description comma-separated: pending, firing, recovering (default all three) */
                    state?: ("pending" | "firing" | "recovering")[];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                acknowledged: {
                                    at: string;
                                    by: string;
                                    comment: string;
                                } | null;
                                activeSince: string | null;
                                annotations: {
                                    [key: string]: string;
                                };
                                episode: number;
                                fingerprint: string;
                                firedAt: string | null;
                                /** @enum {string} */
                                kind: "alert" | "nodata" | "error";
                                labels: {
                                    [key: string]: string;
                                };
                                lastEvalAt: string;
                                lastSentAt: string | null;
                                /** @description "silence <id>" / "maintenance <name>" while notifications are muted */
                                mutedBy: string | null;
                                rule: string;
                                severity: string;
                                /** @enum {string} */
                                state: "inactive" | "pending" | "firing" | "recovering" | "resolved";
                                value: number | null;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/active/{rule}/{fingerprint}/acknowledge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Acknowledge an active alert: no repeat notifications for it until it resolves (the resolve is still sent)
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    fingerprint: string;
                    rule: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        by: string;
                        /** @default  */
                        comment?: string;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            acknowledged: {
                                at: string;
                                by: string;
                                comment: string;
                            } | null;
                            activeSince: string | null;
                            annotations: {
                                [key: string]: string;
                            };
                            episode: number;
                            fingerprint: string;
                            firedAt: string | null;
                            /** @enum {string} */
                            kind: "alert" | "nodata" | "error";
                            labels: {
                                [key: string]: string;
                            };
                            lastEvalAt: string;
                            lastSentAt: string | null;
                            /** @description "silence <id>" / "maintenance <name>" while notifications are muted */
                            mutedBy: string | null;
                            rule: string;
                            severity: string;
                            /** @enum {string} */
                            state: "inactive" | "pending" | "firing" | "recovering" | "resolved";
                            value: number | null;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * State changes of alert instances (and acknowledgements), newest first; page with before_id
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description entries older than this id (the last id of the previous page) */
                    before_id?: number;
                    fingerprint?: string;
                    /** @description ISO 8601; entries at or after */
                    from?: unknown;
                    /** @description default 200, ≤ 5000 */
                    limit?: number;
                    rule?: string;
                    /** @description ISO 8601; entries before */
                    to?: unknown;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                at: string;
                                detail: string | null;
                                episode: number;
                                fingerprint: string;
                                from: string;
                                id: number;
                                kind: string;
                                labels: {
                                    [key: string]: string;
                                };
                                rule: string;
                                severity: string;
                                to: string;
                                value: number | null;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/maintenance-windows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Maintenance windows (one-off or recurring) of the project
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                comment: string;
                                created_by: string;
                                ends_at: string | null;
                                id: string;
                                matchers: unknown[];
                                name: string;
                                recurrence: unknown | null;
                                starts_at: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /**
         * Create a maintenance window: mutes matching alerts (all, without matchers) while it is in effect
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default  */
                        comment?: string;
                        created_by: string;
                        ends_at?: unknown;
                        matchers?: (string | {
                            name: string;
                            /**
                             * @default =
                             * @enum {string}
                             */
                            op?: "=" | "!=" | "=~" | "!~";
                            value: string;
                        })[];
                        name: string;
                        recurrence?: {
                            end: string;
                            start: string;
                            timezone: string;
                            /**
                             * @default [
                             *       1,
                             *       2,
                             *       3,
                             *       4,
                             *       5,
                             *       6,
                             *       7
                             *     ]
                             */
                            weekdays?: number[];
                        };
                        starts_at?: unknown;
                    };
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/maintenance-windows/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a maintenance window
         * @description Needs a key with role admin (or admin).
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deleted: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Notifications of the project (the outbox), newest first
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description default 100, ≤ 1000 */
                    limit?: number;
                    /** @description pending, sending, sent or failed */
                    status?: "pending" | "sending" | "sent" | "partial" | "delivered" | "failed" | "superseded";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                attempts: number;
                                channel: string;
                                channelType: string;
                                createdAt: string;
                                dedupKeys: string[];
                                id: number;
                                idempotencyKey: string;
                                isTest: boolean;
                                lastError: string | null;
                                nextAttemptAt: string;
                                payload: unknown;
                                providerError: string | null;
                                providerId: string | null;
                                providerStatus: string | null;
                                recipient: string | null;
                                recipientResults: {
                                    [key: string]: {
                                        accepted: boolean;
                                        response?: string;
                                    };
                                } | null;
                                sentAt: string | null;
                                status: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/notifications/{id}/attempts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every send attempt of one notification, in order
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                attempt: number;
                                durationMs: number;
                                error: string | null;
                                httpStatus: number | null;
                                outcome: string;
                                replica: string;
                                startedAt: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/policy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The project's API notification policy (channels, routes) and the effective channel and route names
         * @description Needs a key with role admin (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            api: {
                                channels: ({
                                    name: string;
                                    type: string;
                                } & {
                                    [key: string]: unknown;
                                })[];
                                routes: ({
                                    channels: string[];
                                    name?: string;
                                } & {
                                    [key: string]: unknown;
                                })[];
                            };
                            effective: {
                                channels: string[];
                                routes: string[];
                            };
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /**
         * Replace the project's API notification policy (file policies are read-only here)
         * @description Needs a key with role admin (or admin).
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default [] */
                        channels?: ({
                            /**
                             * @default warn
                             * @enum {string}
                             */
                            level?: "info" | "warn" | "error";
                            name: string;
                            template?: string;
                            /** @constant */
                            type: "log";
                        } | {
                            /** @default [] */
                            cc?: string[];
                            name: string;
                            /** @default {{ title }} */
                            subject?: string;
                            template?: string;
                            to: string[];
                            /** @constant */
                            type: "email";
                        } | {
                            /**
                             * @default markdown
                             * @enum {string}
                             */
                            format?: "markdown" | "text";
                            /** @default ${ALERTING_WECOM_KEY} */
                            key?: string;
                            /** @default [] */
                            mentioned_mobile_list?: string[];
                            name: string;
                            template?: string;
                            /** @constant */
                            type: "wecom";
                        } | {
                            content_sid?: string;
                            content_variables?: {
                                [key: string]: string;
                            };
                            name: string;
                            phone_number_id?: string;
                            /** @enum {string} */
                            provider: "meta" | "twilio";
                            template?: string;
                            /** @default en_US */
                            template_language?: string;
                            template_name?: string;
                            template_parameters?: string[];
                            /** @default 900 */
                            template_parameters_max_chars?: number;
                            to: string[];
                            /** @default ${ALERTING_WHATSAPP_TOKEN} */
                            token?: string;
                            /** @constant */
                            type: "whatsapp";
                        } | {
                            name: string;
                            template?: string;
                            /** @constant */
                            type: "slack";
                            /** @default ${ALERTING_SLACK_WEBHOOK_SECRET_URL} */
                            url?: string;
                        } | {
                            /** @default {} */
                            headers?: {
                                [key: string]: string;
                            };
                            name: string;
                            /** @default ${ALERTING_WEBHOOK_SECRET} */
                            secret?: string;
                            template?: string;
                            /** @constant */
                            type: "webhook";
                            url: string;
                        } | {
                            name: string;
                            template?: string;
                            to: string[];
                            /** @constant */
                            type: "sms";
                        } | {
                            /** @default false */
                            at_all?: boolean;
                            /** @default [] */
                            at_mobiles?: string[];
                            name: string;
                            /** @default ${ALERTING_DINGTALK_SECRET} */
                            secret?: string;
                            template?: string;
                            /** @default ${ALERTING_DINGTALK_TOKEN} */
                            token?: string;
                            /** @constant */
                            type: "dingtalk";
                        } | {
                            /** @default [] */
                            at?: string[];
                            name: string;
                            /** @default ${ALERTING_FEISHU_SECRET} */
                            secret?: string;
                            template?: string;
                            /** @default ${ALERTING_FEISHU_TOKEN} */
                            token?: string;
                            /** @constant */
                            type: "feishu";
                        } | {
                            component?: string;
                            group?: string;
                            name: string;
                            /** @default ${ALERTING_PAGERDUTY_ROUTING_KEY} */
                            routing_key?: string;
                            source?: string;
                            template?: string;
                            /** @constant */
                            type: "pagerduty";
                        } | {
                            /** @default ${ALERTING_OPSGENIE_API_KEY} */
                            api_key?: string;
                            name: string;
                            /** @default [] */
                            responders?: {
                                id?: string;
                                name?: string;
                                /** @enum {string} */
                                type: "team" | "user" | "escalation" | "schedule";
                                username?: string;
                            }[];
                            /** @default [] */
                            tags?: string[];
                            template?: string;
                            /** @constant */
                            type: "opsgenie";
                        })[];
                        routes?: {
                            channels: string[];
                            /** @default false */
                            continue?: boolean;
                            /**
                             * @default [
                             *       "alertname"
                             *     ]
                             */
                            group_by?: (string | "...")[];
                            /** @default 5m */
                            group_interval?: string;
                            /** @default 30s */
                            group_wait?: string;
                            matchers?: (string | {
                                name: string;
                                /**
                                 * @default =
                                 * @enum {string}
                                 */
                                op?: "=" | "!=" | "=~" | "!~";
                                value: string;
                            })[] | {
                                [key: string]: string;
                            };
                            name?: string;
                            /** @default 4h */
                            repeat_interval?: string;
                        }[];
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            api: {
                                channels: ({
                                    name: string;
                                    type: string;
                                } & {
                                    [key: string]: unknown;
                                })[];
                                routes: ({
                                    channels: string[];
                                    name?: string;
                                } & {
                                    [key: string]: unknown;
                                })[];
                            };
                            effective: {
                                channels: string[];
                                routes: string[];
                            };
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/rule-problems": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Problems of rule files and built-in rules of the project (file, rule, field, message)
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                field?: string;
                                file: string;
                                message: string;
                                rule?: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/rules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Alert rules of the project (API, rule files and built-in), with their definitions
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                createdAt: string;
                                enabled: boolean;
                                name: string;
                                projectId: string;
                                /** @enum {string} */
                                source: "file" | "builtin" | "api";
                                sourceFile: string | null;
                                spec: {
                                    condition?: unknown;
                                    description?: string;
                                    for?: number | string;
                                    interval?: number | string;
                                    name: string;
                                    severity?: string;
                                    sql?: string;
                                } & {
                                    [key: string]: unknown;
                                };
                                updatedAt: string;
                                version: number;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /**
         * Create an alert rule; its SQL is checked against ClickHouse first (400 with ClickHouse's message when rejected)
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default {} */
                        annotations?: {
                            [key: string]: string;
                        };
                        condition?: {
                            change?: {
                                offset: string;
                            };
                            /** @enum {string} */
                            op: ">" | ">=" | "<" | "<=" | "==" | "!=";
                            threshold?: number;
                            thresholds?: {
                                CRITICAL?: number;
                                INFO?: number;
                                WARNING?: number;
                            };
                        };
                        /** @default  */
                        description?: string;
                        /** @default true */
                        enabled?: boolean;
                        /** @default {} */
                        error?: {
                            for?: string;
                            /**
                             * @default error
                             * @enum {string}
                             */
                            state?: "error" | "keep_last";
                        };
                        /** @default 0s */
                        for?: string;
                        /** @default 1m */
                        interval?: string;
                        /** @default 0s */
                        keep_firing_for?: string;
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        name: string;
                        /** @default {} */
                        no_data?: {
                            for?: string;
                            /**
                             * @default nodata
                             * @enum {string}
                             */
                            state?: "nodata" | "ok" | "keep_last";
                        };
                        /**
                         * @default WARNING
                         * @enum {string}
                         */
                        severity?: "INFO" | "WARNING" | "CRITICAL";
                        sql: string;
                        timeout?: string;
                        value_column?: string;
                    };
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            createdAt: string;
                            enabled: boolean;
                            name: string;
                            projectId: string;
                            /** @enum {string} */
                            source: "file" | "builtin" | "api";
                            sourceFile: string | null;
                            spec: {
                                condition?: unknown;
                                description?: string;
                                for?: number | string;
                                interval?: number | string;
                                name: string;
                                severity?: string;
                                sql?: string;
                            } & {
                                [key: string]: unknown;
                            };
                            updatedAt: string;
                            version: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/rules/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One alert rule
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            createdAt: string;
                            enabled: boolean;
                            name: string;
                            projectId: string;
                            /** @enum {string} */
                            source: "file" | "builtin" | "api";
                            sourceFile: string | null;
                            spec: {
                                condition?: unknown;
                                description?: string;
                                for?: number | string;
                                interval?: number | string;
                                name: string;
                                severity?: string;
                                sql?: string;
                            } & {
                                [key: string]: unknown;
                            };
                            updatedAt: string;
                            version: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /**
         * Replace an API rule (file and built-in rules are changed where they are defined); its alert state is kept
         * @description Needs a key with role admin (or admin).
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default {} */
                        annotations?: {
                            [key: string]: string;
                        };
                        condition?: {
                            change?: {
                                offset: string;
                            };
                            /** @enum {string} */
                            op: ">" | ">=" | "<" | "<=" | "==" | "!=";
                            threshold?: number;
                            thresholds?: {
                                CRITICAL?: number;
                                INFO?: number;
                                WARNING?: number;
                            };
                        };
                        /** @default  */
                        description?: string;
                        /** @default true */
                        enabled?: boolean;
                        /** @default {} */
                        error?: {
                            for?: string;
                            /**
                             * @default error
                             * @enum {string}
                             */
                            state?: "error" | "keep_last";
                        };
                        /** @default 0s */
                        for?: string;
                        /** @default 1m */
                        interval?: string;
                        /** @default 0s */
                        keep_firing_for?: string;
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        name: string;
                        /** @default {} */
                        no_data?: {
                            for?: string;
                            /**
                             * @default nodata
                             * @enum {string}
                             */
                            state?: "nodata" | "ok" | "keep_last";
                        };
                        /**
                         * @default WARNING
                         * @enum {string}
                         */
                        severity?: "INFO" | "WARNING" | "CRITICAL";
                        sql: string;
                        timeout?: string;
                        value_column?: string;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            createdAt: string;
                            enabled: boolean;
                            name: string;
                            projectId: string;
                            /** @enum {string} */
                            source: "file" | "builtin" | "api";
                            sourceFile: string | null;
                            spec: {
                                condition?: unknown;
                                description?: string;
                                for?: number | string;
                                interval?: number | string;
                                name: string;
                                severity?: string;
                                sql?: string;
                            } & {
                                [key: string]: unknown;
                            };
                            updatedAt: string;
                            version: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        /**
         * Delete an API rule; its firing alerts resolve (and the resolves are sent)
         * @description Needs a key with role admin (or admin).
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deleted: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/rules/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Backtest a rule (a definition, or a stored rule by name) over a past window: transitions and incidents; nothing is stored or sent
         * @description Needs a key with role read (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        from: unknown;
                        name?: string;
                        rule?: unknown;
                        step_ms?: number;
                        to: unknown;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            episodes: {
                                fingerprint: string;
                                firedAt: string | null;
                                /** @enum {string} */
                                kind: "alert" | "nodata" | "error";
                                labels: {
                                    [key: string]: string;
                                };
                                peakSeverity: string;
                                pendingAt: string;
                                resolvedAt: string | null;
                            }[];
                            errors: {
                                at: string;
                                message: string;
                            }[];
                            evaluations: number;
                            from: string;
                            stepMs: number;
                            to: string;
                            transitions: {
                                at: string;
                                fingerprint: string;
                                /** @enum {string} */
                                from: "inactive" | "pending" | "firing" | "recovering" | "resolved";
                                /** @enum {string} */
                                kind: "alert" | "nodata" | "error";
                                labels: {
                                    [key: string]: string;
                                };
                                severity: string;
                                /** @enum {string} */
                                to: "inactive" | "pending" | "firing" | "recovering" | "resolved";
                                value: number | null;
                            }[];
                            warnings: string[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/rules/validate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Check a rule without storing it: schema, then its SQL against ClickHouse (EXPLAIN, result columns); 400 names each problem
         * @description Needs a key with role read (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default {} */
                        annotations?: {
                            [key: string]: string;
                        };
                        condition?: {
                            change?: {
                                offset: string;
                            };
                            /** @enum {string} */
                            op: ">" | ">=" | "<" | "<=" | "==" | "!=";
                            threshold?: number;
                            thresholds?: {
                                CRITICAL?: number;
                                INFO?: number;
                                WARNING?: number;
                            };
                        };
                        /** @default  */
                        description?: string;
                        /** @default true */
                        enabled?: boolean;
                        /** @default {} */
                        error?: {
                            for?: string;
                            /**
                             * @default error
                             * @enum {string}
                             */
                            state?: "error" | "keep_last";
                        };
                        /** @default 0s */
                        for?: string;
                        /** @default 1m */
                        interval?: string;
                        /** @default 0s */
                        keep_firing_for?: string;
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        name: string;
                        /** @default {} */
                        no_data?: {
                            for?: string;
                            /**
                             * @default nodata
                             * @enum {string}
                             */
                            state?: "nodata" | "ok" | "keep_last";
                        };
                        /**
                         * @default WARNING
                         * @enum {string}
                         */
                        severity?: "INFO" | "WARNING" | "CRITICAL";
                        sql: string;
                        timeout?: string;
                        value_column?: string;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            problems: {
                                field?: string;
                                file: string;
                                message: string;
                                rule?: string;
                            }[];
                            /** @constant */
                            valid: true;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/silences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Silences of the project, latest end first
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description active, pending, expired or all (default) */
                    state?: "active" | "pending" | "expired" | "all";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                comment: string;
                                createdBy: string;
                                endsAt: string;
                                id: string;
                                matchers: unknown[];
                                startsAt: string;
                                /** @enum {string} */
                                state: "active" | "pending" | "expired";
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /**
         * Create a silence: mutes notifications of matching alerts from starts_at (default now) to ends_at
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        comment: string;
                        created_by: string;
                        ends_at: unknown;
                        matchers: (string | {
                            name: string;
                            /**
                             * @default =
                             * @enum {string}
                             */
                            op?: "=" | "!=" | "=~" | "!~";
                            value: string;
                        })[];
                        starts_at?: unknown;
                    };
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            comment: string;
                            createdBy: string;
                            endsAt: string;
                            id: string;
                            matchers: unknown[];
                            startsAt: string;
                            /** @enum {string} */
                            state: "active" | "pending" | "expired";
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/silences/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One silence
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            comment: string;
                            createdBy: string;
                            endsAt: string;
                            id: string;
                            matchers: unknown[];
                            startsAt: string;
                            /** @enum {string} */
                            state: "active" | "pending" | "expired";
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        /**
         * Replace a silence (matchers, times, author, comment)
         * @description Needs a key with role admin (or admin).
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        comment: string;
                        created_by: string;
                        ends_at: unknown;
                        matchers: (string | {
                            name: string;
                            /**
                             * @default =
                             * @enum {string}
                             */
                            op?: "=" | "!=" | "=~" | "!~";
                            value: string;
                        })[];
                        starts_at?: unknown;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            comment: string;
                            createdBy: string;
                            endsAt: string;
                            id: string;
                            matchers: unknown[];
                            startsAt: string;
                            /** @enum {string} */
                            state: "active" | "pending" | "expired";
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        /**
         * Delete a silence
         * @description Needs a key with role admin (or admin).
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            deleted: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/silences/{id}/expire": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * End a silence now (it is kept, as expired)
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            comment: string;
                            createdBy: string;
                            endsAt: string;
                            id: string;
                            matchers: unknown[];
                            startsAt: string;
                            /** @enum {string} */
                            state: "active" | "pending" | "expired";
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/alerts/test-send": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a test notification to one channel now, through the real send path; returns the outcome and attempts
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        channel: string;
                        /** @default This is a test notification from Tidemark alerting. */
                        message?: string;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            attempts: {
                                attempt: number;
                                durationMs: number;
                                error: string | null;
                                httpStatus: number | null;
                                outcome: string;
                                replica: string;
                                startedAt: string;
                            }[];
                            error: string | null;
                            notificationId: number;
                            ok: boolean;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/customers/summary": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Customers: total; by type, source, channel, region, industry and size; new and active (with a service record) in the last N days
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description window of "new" and "active" customers, in days back from now (default 30) */
                    days?: number;
                    /** @description last day, inclusive (default today) */
                    end_date?: string;
                    /** @description with end_date: count new and active customers over these calendar days instead of `days` (the window of the other business statistics) */
                    start_date?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                    /** @description largest values listed per dimension (default 20) */
                    top?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            active_customers: {
                                count: number;
                                days: number;
                                percent: number | null;
                            };
                            by_channel: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            by_industry: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            by_region: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            by_size: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            by_source: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            by_type: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            end_date?: string;
                            new_customers: {
                                count: number;
                                days: number;
                            };
                            start_date?: string;
                            timezone?: string;
                            total: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/customers/trend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * New customers per day, week (from Monday) or month, with the running total
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description last day, inclusive (YYYY-MM-DD); default today */
                    end_date?: string;
                    /** @description day | week | month */
                    period?: "day" | "week" | "month";
                    /** @description first day (widened to the start of its period); default: 30 days, 12 weeks or 12 months back */
                    start_date?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            customers_before: number;
                            end_date: string;
                            /** @enum {string} */
                            period: "day" | "week" | "month";
                            points: {
                                date: string;
                                new_customers: number;
                                /**
                                 * @description the window cuts this period, or it contains today (still filling)
                                 * @constant
                                 */
                                partial?: true;
                                total_customers: number;
                            }[];
                            start_date: string;
                            timezone: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/orders/revenue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Net or gross revenue and order count per day, week or month over exactly the date window; optionally split by service type or product category or limited to statuses
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description none | service_type | product_category */
                    by?: "none" | "service_type" | "product_category";
                    /** @description last day, inclusive (YYYY-MM-DD); default today */
                    end_date?: string;
                    /** @description day | week | month */
                    period?: "day" | "week" | "month";
                    /** @description net: orders in the net statuses (BUSINESS_NET_ORDER_STATUSES, default paid,completed); gross: every order whatever its status */
                    revenue?: "net" | "gross";
                    /** @description first day counted (the first point is its whole period, marked partial when the window cuts it); default: 30 days, 12 weeks or 12 months back */
                    start_date?: string;
                    /** @description only orders in these statuses, comma-separated (e.g. paid,completed); overrides `revenue` */
                    status?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            by: "none" | "service_type" | "product_category";
                            currency: string;
                            end_date: string;
                            gross_orders: number;
                            gross_revenue: number;
                            /** @description with by other than none */
                            groups?: {
                                orders: number;
                                points: {
                                    date: string;
                                    orders: number;
                                    /**
                                     * @description the window cuts this period, or it contains today (still filling)
                                     * @constant
                                     */
                                    partial?: true;
                                    revenue: number;
                                }[];
                                revenue: number;
                                revenue_percent: number | null;
                                value: string;
                            }[];
                            net_orders: number;
                            net_revenue: number;
                            /** @enum {string} */
                            period: "day" | "week" | "month";
                            points: {
                                date: string;
                                orders: number;
                                /**
                                 * @description the window cuts this period, or it contains today (still filling)
                                 * @constant
                                 */
                                partial?: true;
                                revenue: number;
                            }[];
                            /** @enum {string} */
                            revenue_kind: "net" | "gross" | "custom";
                            start_date: string;
                            statuses: string[];
                            timezone: string;
                            total_orders: number;
                            total_revenue: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/orders/summary": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Orders created in a date range: count, amount, average; by status, service type and product category with shares
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description last day, inclusive (YYYY-MM-DD); default today */
                    end_date?: string;
                    /** @description first day (YYYY-MM-DD); default 29 days before end_date */
                    start_date?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            avg_net_order_amount: number | null;
                            avg_order_amount: number | null;
                            by_product_category: {
                                amount: number;
                                amount_percent: number | null;
                                orders: number;
                                orders_percent: number | null;
                                value: string;
                            }[];
                            by_service_type: {
                                amount: number;
                                amount_percent: number | null;
                                orders: number;
                                orders_percent: number | null;
                                value: string;
                            }[];
                            by_status: {
                                amount: number;
                                amount_percent: number | null;
                                orders: number;
                                orders_percent: number | null;
                                value: string;
                            }[];
                            currency: string;
                            end_date: string;
                            gross_revenue: number;
                            net_orders: number;
                            net_revenue: number;
                            net_statuses: string[];
                            start_date: string;
                            timezone: string;
                            total_amount: number;
                            total_orders: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/organizations/summary": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Organizations: count, employees, by type and size band, users per organization
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description organizations listed, most users first (default 10) */
                    top?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            avg_employees: number | null;
                            by_size: {
                                employees: number;
                                organizations: number;
                                percent: number | null;
                                value: string;
                            }[];
                            by_type: {
                                employees: number;
                                organizations: number;
                                percent: number | null;
                                value: string;
                            }[];
                            organizations_with_users: number;
                            top_organizations: {
                                employees: number;
                                name: string;
                                org_id: string;
                                type: string;
                                users: number;
                            }[];
                            total_employees: number;
                            total_organizations: number;
                            total_users: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/roles/distribution": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Users per role (every role, also those without users; users of a role id not in the roles table are listed with a null name)
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            roles: {
                                name: string | null;
                                percent: number | null;
                                role_id: string;
                                users: number;
                            }[];
                            total_roles: number;
                            total_users: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/service-records/statistics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Service records: open, resolved, overdue, resolution time, satisfaction; by status, priority and assignee
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description only records created up to this day, inclusive; default today when start_date is set */
                    end_date?: string;
                    /** @description only records created from this day (YYYY-MM-DD); default: all records */
                    start_date?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                    /** @description assignees listed, most records first (default 50) */
                    top?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            avg_resolution_hours: number | null;
                            avg_satisfaction: number | null;
                            by_assignee: {
                                assignee: string;
                                avg_resolution_hours: number | null;
                                avg_satisfaction: number | null;
                                open: number;
                                overdue: number;
                                rated: number;
                                resolution_rate: number | null;
                                resolved: number;
                                resolved_late: number;
                                total: number;
                            }[];
                            by_priority: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            by_status: {
                                count: number;
                                percent: number | null;
                                value: string;
                            }[];
                            end_date?: string;
                            open: number;
                            overdue: number;
                            rated: number;
                            resolution_rate: number | null;
                            resolved: number;
                            resolved_late: number;
                            start_date?: string;
                            timezone?: string;
                            total: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/analytics/users/activity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * User activity: logins, last login recency, DAU/WAU/MAU (users whose last login is within 1, 7, 30 days), most active and most recent users
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description users in the most_active and recent_logins lists (default 10) */
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            avg_logins_per_user: number | null;
                            dau: number;
                            last_login: {
                                /** @enum {string} */
                                range: "<1d" | "1-7d" | "7-30d" | "30-90d" | ">90d" | "never";
                                users: number;
                            }[];
                            mau: number;
                            most_active: {
                                last_login_at: string;
                                login_count: number;
                                org_id: string;
                                role_id: string;
                                user_id: string;
                            }[];
                            never_logged_in: number;
                            new_users_30d: number;
                            recent_logins: {
                                last_login_at: string;
                                login_count: number;
                                org_id: string;
                                role_id: string;
                                user_id: string;
                            }[];
                            stickiness_percent: number | null;
                            total_logins: number;
                            total_users: number;
                            wau: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/dashboard/satisfaction": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Customer ratings (feedback events, 1-5) of the last N days: very satisfied (5), satisfied (4), needs improvement (1-3), per rating, average
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description days, today included (default 30) */
                    days?: number;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            avg_rating: number | null;
                            distribution: {
                                count: number;
                                /** @enum {string} */
                                key: "very_satisfied" | "satisfied" | "needs_improvement";
                                label: string;
                                value: number;
                            }[];
                            end_date: string;
                            ratings: {
                                count: number;
                                percent: number;
                                rating: number;
                            }[];
                            satisfaction_rate: number | null;
                            start_date: string;
                            timezone: string;
                            total_ratings: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/dashboard/today": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Today so far: sessions, AI messages, transfers to humans, average response time, satisfaction, quality rating; changes against yesterday up to the same time
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            ai_messages: number;
                            ai_resolved: number;
                            avg_rating: number | null;
                            avg_response_time: number | null;
                            changes: {
                                ai_messages_percent: number | null;
                                response_time: number | null;
                                satisfaction_points: number | null;
                                sessions_percent: number | null;
                            };
                            date: string;
                            quality_pass_rate: number | null;
                            quality_rating: ("excellent" | "good" | "fair" | "poor") | null;
                            ratings: number;
                            satisfaction_rate: number | null;
                            timezone: string;
                            total_sessions: number;
                            transferred: number;
                            yesterday: {
                                ai_messages: number;
                                avg_response_time: number | null;
                                ratings: number;
                                satisfaction_rate: number | null;
                                total_sessions: number;
                                transferred: number;
                            };
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/dashboard/trend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Per day of the last N days (today included): sessions, AI messages, transfers, average response time, ratings and satisfaction
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description days, today included (default 7) */
                    days?: number;
                    /** @description language of the weekday names (default en; zh-CN gives 周一) */
                    locale?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            end_date: string;
                            points: {
                                ai_messages: number;
                                avg_rating: number | null;
                                avg_response_time: number | null;
                                date: string;
                                name: string;
                                ratings: number;
                                satisfaction_rate: number | null;
                                sessions: number;
                                transferred: number;
                            }[];
                            start_date: string;
                            timezone: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/etl/quarantine": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Rows of the project's synced tables held in the ETL's per-row quarantine (a value that cannot land in ClickHouse, e.g. a numeric too large for its Decimal): table, key, reason, first and last seen; retried every run
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description Rows at most (1..1000), most recently seen first */
                    limit?: number;
                    /** @description One synced table (<source>.<schema>.<table>, as `table` in the status); default: every table of the project */
                    table?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            rows: {
                                attempts: number;
                                column: string | null;
                                firstSeenAt: string;
                                key: string[];
                                lastSeenAt: string;
                                reason: string;
                                table: string;
                                target: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/etl/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Sync status of the project's business tables: phase, state (ok, stalled, error, ...), lag, rows (current) and row versions landed, last error, reconciliation; and their CDC sources
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            generatedAt: string;
                            sources: {
                                confirmedLsn: string | null;
                                lastCommitAt: string | null;
                                lastError: string | null;
                                publication: string;
                                slot: string;
                                slotLagBytes: number | null;
                                slotLostAt: string | null;
                                /** @enum {string} */
                                slotStatus: "new" | "active" | "lost" | "error";
                                source: string;
                            }[];
                            tables: {
                                consecutiveFailures: number;
                                content: {
                                    at: string;
                                    changed: number;
                                    changedTotal: number;
                                    differingRanges: number;
                                    remaining: number;
                                    repaired: number;
                                    repairedTotal: number;
                                    rowsCompared: number;
                                    seconds: number;
                                    skipped: string | null;
                                } | null;
                                generation: number;
                                lagSeconds: number | null;
                                lastError: string | null;
                                lastRunAt: string | null;
                                lastRunLagSeconds: number | null;
                                lastSuccessAt: string | null;
                                /** @enum {string} */
                                mode: "cursor" | "cdc" | "full";
                                name: string;
                                /** @enum {string} */
                                phase: "pending" | "snapshot" | "incremental" | "quarantined";
                                project: string;
                                quarantinedRows: number;
                                quarantinedSince: string | null;
                                quarantineReason: string | null;
                                reconciliation: {
                                    at: string;
                                    extra: number | null;
                                    missing: number | null;
                                    ok: boolean | null;
                                    repaired: number | null;
                                    sourceRows: number | null;
                                    targetRows: number | null;
                                } | null;
                                /** @description Current rows of the target in ClickHouse (null before it exists) */
                                rows: number | null;
                                rowsSynced: number;
                                schema: string;
                                snapshotRows: number;
                                source: string;
                                stallAfterSeconds: number;
                                stalled: boolean;
                                /** @enum {string} */
                                state: "ok" | "pending" | "snapshot" | "error" | "quarantined" | "stalled";
                                table: string;
                                target: string;
                                watermark: string | null;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/monitoring/health/database": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Database health: reachability per database
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    minutes?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            databases: {
                                at: string;
                                db: string;
                                kind: string;
                                up: boolean;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/monitoring/health/ingest-audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Acknowledgement audit of the project's ingest: per signal, rows the collector acknowledged vs rows landed in ClickHouse over the compared minutes of the latest run, and the difference (lost, unacknowledged)
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    minutes?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            signals: {
                                /** @description Rows the collector acknowledged (HTTP 200) with a timestamp in the compared minutes */
                                acknowledged: number;
                                /** @description When the latest audit run compared this signal */
                                checkedAt: string;
                                collector: string;
                                /** @description Compared minutes where acknowledged and landed differ */
                                differingMinutes: number;
                                /** @description First compared minute (UTC, inclusive) */
                                from: string;
                                graceSeconds: number;
                                /** @description Rows stored in ClickHouse with a timestamp in the compared minutes */
                                landed: number;
                                /** @description acknowledged − landed where positive: rows the platform said it had and does not */
                                lost: number;
                                signal: string;
                                /** @description End of the compared minutes (UTC, exclusive): minutes younger than the grace period are not compared yet */
                                to: string;
                                /** @description landed − acknowledged where positive: rows written straight into Kafka, or duplicates */
                                unacknowledged: number;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/monitoring/health/services": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Health of checked HTTP/TCP services: up, latency, availability
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    minutes?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            services: {
                                /** @description minute of the latest sample */
                                at: string;
                                kind: string;
                                latency_ms: number | null;
                                target: string;
                                up: boolean | null;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/monitoring/metrics/database": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Latest database figures: connections, slow statements, parts, merges, consumer lag, Redis memory and clients
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    minutes?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            metrics: {
                                at: string;
                                labels: {
                                    [key: string]: string;
                                };
                                name: string;
                                value: number;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/monitoring/metrics/system": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Latest CPU, memory, disk, load, process and network figures
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    minutes?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            metrics: {
                                at: string;
                                labels: {
                                    [key: string]: string;
                                };
                                name: string;
                                value: number;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/quality/records": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Quality audit records, newest first, paged (page, size), filtered by status, agent, session and date
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    agent_id?: string;
                    /** @description audited up to this day, inclusive; default: no upper bound */
                    end_date?: string;
                    /** @description page number, from 1 */
                    page?: number;
                    session_id?: string;
                    /** @description records per page (default 10, at most 100) */
                    size?: number;
                    /** @description audited from this day (YYYY-MM-DD, in timezone); default: no lower bound */
                    start_date?: string;
                    status?: "passed" | "failed" | "pending_review";
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                agent: string | null;
                                agent_id: string | null;
                                /** @enum {string} */
                                audit_type: "auto" | "manual";
                                audited_at: string;
                                customer: string | null;
                                effective_score: number;
                                final_score: number | null;
                                id: string;
                                issues: {
                                    detail?: string;
                                    /** @enum {string} */
                                    severity?: "low" | "medium" | "high";
                                    type: string;
                                }[];
                                review_comment: string | null;
                                reviewed_at: string | null;
                                reviewed_by: string | null;
                                score: number;
                                session_id: string;
                                /** @enum {string} */
                                status: "passed" | "failed" | "pending_review";
                                type: string | null;
                            }[];
                            page: number;
                            pages: number;
                            size: number;
                            total: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /**
         * Records a quality audit of a conversation (key role ingest)
         * @description Needs a key with role ingest (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        agent_id?: string;
                        agent_name?: string;
                        /**
                         * @default auto
                         * @enum {string}
                         */
                        audit_type?: "auto" | "manual";
                        /**
                         * Format: date-time
                         * @description default now
                         */
                        audited_at?: string;
                        customer_name?: string;
                        /** @description strings or { type, detail?, severity? } */
                        issues?: (string | {
                            detail?: string;
                            /** @enum {string} */
                            severity?: "low" | "medium" | "high";
                            type: string;
                        })[];
                        score: number;
                        session_id: string;
                        /** @description the conversation scenario, e.g. "battery range question" */
                        session_type?: string;
                        /**
                         * @description default: passed when score >= API_QUALITY_PASS_SCORE, else pending_review
                         * @enum {string}
                         */
                        status?: "passed" | "failed" | "pending_review";
                    };
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            agent: string | null;
                            agent_id: string | null;
                            /** @enum {string} */
                            audit_type: "auto" | "manual";
                            audited_at: string;
                            customer: string | null;
                            effective_score: number;
                            final_score: number | null;
                            id: string;
                            issues: {
                                detail?: string;
                                /** @enum {string} */
                                severity?: "low" | "medium" | "high";
                                type: string;
                            }[];
                            review_comment: string | null;
                            reviewed_at: string | null;
                            reviewed_by: string | null;
                            score: number;
                            session_id: string;
                            /** @enum {string} */
                            status: "passed" | "failed" | "pending_review";
                            type: string | null;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/quality/records/{id}/review": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Manual review of an audit: the final score and status (key role admin)
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        comment?: string;
                        final_score: number;
                        reviewer_id: string;
                        /**
                         * @description default: passed when final_score >= API_QUALITY_PASS_SCORE, else failed
                         * @enum {string}
                         */
                        status?: "passed" | "failed";
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            agent: string | null;
                            agent_id: string | null;
                            /** @enum {string} */
                            audit_type: "auto" | "manual";
                            audited_at: string;
                            customer: string | null;
                            effective_score: number;
                            final_score: number | null;
                            id: string;
                            issues: {
                                detail?: string;
                                /** @enum {string} */
                                severity?: "low" | "medium" | "high";
                                type: string;
                            }[];
                            review_comment: string | null;
                            reviewed_at: string | null;
                            reviewed_by: string | null;
                            score: number;
                            session_id: string;
                            /** @enum {string} */
                            status: "passed" | "failed" | "pending_review";
                            type: string | null;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/quality/summary": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Quality audits: count, pass rate, pending reviews, average score, most frequent issues
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    agent_id?: string;
                    /** @description audited up to this day, inclusive; default: no upper bound */
                    end_date?: string;
                    /** @description audited from this day (YYYY-MM-DD, in timezone); default: no lower bound */
                    start_date?: string;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                    /** @description issue types listed (default 10) */
                    top?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            audited_count: number;
                            avg_score: number | null;
                            by_audit_type: {
                                auto: number;
                                manual: number;
                            };
                            failed: number;
                            pass_rate: number | null;
                            pass_score: number;
                            passed: number;
                            pending_review: number;
                            reviewed: number;
                            top_issues: {
                                count: number;
                                type: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/realtime/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Realtime overview: events that happened in the last complete minute and in this (partial) minute, active sessions in the last 5 minutes, online agents
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            active_sessions: number;
                            events_last_minute: number;
                            events_this_minute: number;
                            minute_start: string | null;
                            online_agents: number | null;
                            /** @constant */
                            this_minute_partial: true;
                            total_agents: number | null;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/usage/distribution": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Operating system and version of the installations active in the last N days (each counted once, with its latest heartbeat)
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description installations with a heartbeat in the last N days (default 30) */
                    days?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            active_installs: number;
                            days: number;
                            os: {
                                installs: number;
                                percent: number | null;
                                value: string;
                            }[];
                            version: {
                                installs: number;
                                percent: number | null;
                                value: string;
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/analytics-monitoring/usage/installs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Installations: total seen, active in the last 1/7/30 days, new; daily active and new installs
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description days of the daily series, today included (default 30) */
                    days?: number;
                    /** @description IANA time zone of dates and day boundaries (default UTC) */
                    timezone?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            daily: {
                                active_installs: number;
                                date: string;
                                new_installs: number;
                            }[];
                            daily_active: number;
                            monthly_active: number;
                            new_installs_7d: number;
                            new_installs_30d: number;
                            timezone: string;
                            total_installs: number;
                            weekly_active: number;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the project's API keys (prefixes only; keys are stored as hashes)
         * @description Needs a key with role admin (or admin).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                created_at: string;
                                description: string;
                                id: string;
                                key_prefix: string;
                                revoked_at: string | null;
                                /** @enum {string} */
                                role: "ingest" | "read" | "admin";
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /**
         * Create an API key for the project; the key is returned once
         * @description Needs a key with role admin (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default  */
                        description?: string;
                        /** @enum {string} */
                        role: "ingest" | "read" | "admin";
                    };
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @description the key itself, shown only in this answer */
                            key: string;
                            /** @enum {string} */
                            role: "ingest" | "read" | "admin";
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a key of the project
         * @description Needs a key with role admin (or admin).
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            revoked: string;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/logs/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Search logs: level:ERROR AND path:/api/v1/payments/* AND status_code:500, process_time:>2, "text"
         * @description Needs a key with role read (or admin).
         */
        get: {
            parameters: {
                query?: {
                    /** @description page: only lines older than this (the last timestamp of the previous page) */
                    before?: string;
                    from?: string;
                    limit?: number;
                    q?: string;
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: {
                                attributes: {
                                    [key: string]: string;
                                };
                                level: string;
                                message: string;
                                request_id: string;
                                service: string;
                                time: string;
                                trace_id: string;
                            }[];
                            next: string | null;
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/query/timeseries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Time series of events or metrics: measures, dimensions, filters, range, interval, timezone, fill, comparison
         * @description Needs a key with role read (or admin).
         */
        post: {
            parameters: {
                query?: {
                    /** @description false bypasses the cache */
                    cache?: "true" | "false";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        compare?: "previous_period";
                        /** @default [] */
                        dimensions?: string[];
                        /** @default true */
                        fill?: boolean;
                        filter?: components["schemas"]["schema0_44fbb19c"];
                        /** @default auto */
                        interval?: "auto" | ("1m" | "5m" | "15m" | "30m" | "1h" | "6h" | "12h" | "1d" | "1w");
                        /** @default 50 */
                        limit?: number;
                        measures: {
                            alias?: string;
                            field?: string;
                            /** @enum {string} */
                            type: "count" | "unique_users" | "unique_sessions" | "sum" | "avg" | "min" | "max" | "p50" | "p90" | "p95" | "p99" | "last";
                        }[];
                        range: {
                            from: string | number;
                            to: string | number;
                        } | {
                            last: string;
                        };
                        /**
                         * @default events
                         * @enum {string}
                         */
                        signal?: "events" | "metrics";
                        /** @default UTC */
                        timezone?: string;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            meta: {
                                approximate: string[];
                                cached: boolean;
                                from: number;
                                granularity: string;
                                interval: string;
                                table: string;
                                timezone: string;
                                to: number;
                            };
                            /** @description with compare: previous_period */
                            previous?: {
                                dimensions: {
                                    [key: string]: string;
                                };
                                points: ({
                                    /** @constant */
                                    partial?: true;
                                    t: number;
                                } & {
                                    [key: string]: number | null;
                                })[];
                                /** @description each measure over the whole range */
                                total?: {
                                    [key: string]: number | null;
                                };
                            }[];
                            series: {
                                dimensions: {
                                    [key: string]: string;
                                };
                                points: ({
                                    /** @constant */
                                    partial?: true;
                                    t: number;
                                } & {
                                    [key: string]: number | null;
                                })[];
                                /** @description each measure over the whole range */
                                total?: {
                                    [key: string]: number | null;
                                };
                            }[];
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sql": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Analysts' SQL console: one read-only SELECT over the project's data, with time, row, byte and memory limits; JSON or CSV (see docs/api.md: what the guard allows)
         * @description Needs a key with role read (or admin).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @default json
                         * @enum {string}
                         */
                        format?: "json" | "csv";
                        /** @default 10000 */
                        max_rows?: number;
                        sql: string;
                        /** @default 30 */
                        timeout_seconds?: number;
                    };
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                [key: string]: unknown;
                            }[];
                            meta: {
                                name: string;
                                type: string;
                            }[];
                            rows: number;
                            rows_before_limit_at_least?: number;
                            statistics?: {
                                bytes_read: number;
                                elapsed: number;
                                rows_read: number;
                            } & {
                                [key: string]: unknown;
                            };
                        } & {
                            [key: string]: unknown;
                        };
                        "text/csv": string;
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            status: "ok";
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: ClickHouse and the metadata Postgres answer (503 with the error when not) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            status: "ready";
                        };
                    };
                };
                /** @description Invalid input: { error: { code, message, context.issues } } */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid API key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description The key lacks the role */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        schema0_44fbb19c: {
            field: string;
            /** @enum {string} */
            op: "is" | "is_not" | "contains" | "in" | "gt" | "gte" | "lt" | "lte";
            value: (string | number | boolean) | (string | number | boolean)[];
        } | {
            and: components["schemas"]["schema0_44fbb19c"][];
        } | {
            or: components["schemas"]["schema0_44fbb19c"][];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
