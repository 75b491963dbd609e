--
-- PostgreSQL database dump
--

-- Dumped from database version 16.2
-- Dumped by pg_dump version 16.2

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: ciudad_audit_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ciudad_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION 'ciudad_audit is append-only';
END $$;


--
-- Name: ciudad_audit_chain(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ciudad_audit_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    previous bytea;
BEGIN
    -- The head row's lock serialises writers until they commit; the id is drawn under it
    -- so that id order is chain order. Under READ COMMITTED FOR UPDATE returns the row as
    -- the previous writer left it; stricter isolation fails instead of forking the chain.
    SELECT hash INTO STRICT previous FROM public.ciudad_audit_head FOR UPDATE;
    NEW.id := nextval('public.ciudad_audit_id_seq');
    NEW.hash := public.ciudad_audit_hash(previous, NEW.id, NEW.at, NEW.tenant, NEW.actor,
                                      NEW.action, NEW.target, NEW.detail);
    UPDATE public.ciudad_audit_head SET last_id = NEW.id, hash = NEW.hash;
    RETURN NEW;
END $$;


--
-- Name: ciudad_audit_hash(bytea, bigint, timestamp with time zone, text, text, text, text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ciudad_audit_hash(p_prev bytea, p_id bigint, p_at timestamp with time zone, p_tenant text, p_actor text, p_action text, p_target text, p_detail jsonb) RETURNS bytea
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT sha256(coalesce(p_prev, decode(repeat('00', 32), 'hex')) || convert_to(
        jsonb_build_array(
            p_id, to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            p_tenant, p_actor, p_action, p_target, p_detail
        )::text, 'UTF8'))
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: ciudad_api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_api_keys (
    key_id text NOT NULL,
    tenant text NOT NULL,
    scope text NOT NULL,
    name text NOT NULL,
    secret_hash text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT ciudad_api_keys_scope_check CHECK ((scope = ANY (ARRAY['read'::text, 'write'::text, 'admin'::text])))
);


--
-- Name: ciudad_api_stats; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_api_stats (
    tenant text NOT NULL,
    minute timestamp with time zone NOT NULL,
    requests bigint NOT NULL,
    errors bigint NOT NULL
);


--
-- Name: ciudad_attr_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_attr_state (
    tenant text NOT NULL,
    entity_id text NOT NULL,
    attr text NOT NULL,
    observed_at timestamp with time zone NOT NULL,
    num double precision,
    txt text,
    value_type text NOT NULL,
    unit_code text
);


--
-- Name: ciudad_audit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_audit (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    tenant text,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    hash bytea NOT NULL
);


--
-- Name: ciudad_audit_head; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_audit_head (
    one boolean DEFAULT true NOT NULL,
    last_id bigint NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT ciudad_audit_head_one_check CHECK (one)
);


--
-- Name: ciudad_audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ciudad_audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ciudad_audit_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ciudad_audit_id_seq OWNED BY public.ciudad_audit.id;


--
-- Name: ciudad_change_watch; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_change_watch (
    tenant text NOT NULL,
    entity_type text NOT NULL
);


--
-- Name: ciudad_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_changes (
    seq bigint NOT NULL,
    tenant text NOT NULL,
    entity_id text NOT NULL,
    entity_type text NOT NULL,
    attrs jsonb NOT NULL,
    changed_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: ciudad_changes_seq_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ciudad_changes_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ciudad_changes_seq_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ciudad_changes_seq_seq OWNED BY public.ciudad_changes.seq;


--
-- Name: ciudad_commands; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_commands (
    id bigint NOT NULL,
    tenant text NOT NULL,
    apikey text NOT NULL,
    device_id text NOT NULL,
    name text NOT NULL,
    value jsonb,
    status text DEFAULT 'PENDING'::text NOT NULL,
    result text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    done_at timestamp with time zone,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: ciudad_commands_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ciudad_commands_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ciudad_commands_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ciudad_commands_id_seq OWNED BY public.ciudad_commands.id;


--
-- Name: ciudad_dead_letters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_dead_letters (
    id bigint NOT NULL,
    received_at timestamp with time zone NOT NULL,
    topic text NOT NULL,
    payload text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    tenant text,
    device_id text
);


--
-- Name: ciudad_dead_letters_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ciudad_dead_letters_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ciudad_dead_letters_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ciudad_dead_letters_id_seq OWNED BY public.ciudad_dead_letters.id;


--
-- Name: ciudad_devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_devices (
    apikey text NOT NULL,
    device_id text NOT NULL,
    entity_type text NOT NULL,
    entity_id text,
    period_s double precision,
    attributes jsonb,
    static_attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    password_hash text,
    revoked boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: ciudad_entities; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_entities (
    tenant text NOT NULL,
    entity_id text NOT NULL,
    entity_type text NOT NULL,
    static jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    modified_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: ciudad_ingest_stats; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_ingest_stats (
    tenant text NOT NULL,
    minute timestamp with time zone NOT NULL,
    readings bigint NOT NULL,
    buckets bigint[] NOT NULL
);


--
-- Name: ciudad_notifications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_notifications (
    id bigint NOT NULL,
    tenant text NOT NULL,
    subscription_id text NOT NULL,
    data jsonb NOT NULL,
    due_at timestamp with time zone NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text
);


--
-- Name: ciudad_notifications_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ciudad_notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ciudad_notifications_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ciudad_notifications_id_seq OWNED BY public.ciudad_notifications.id;


--
-- Name: ciudad_observations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_observations (
    tenant text NOT NULL,
    entity_id text NOT NULL,
    attr text NOT NULL,
    observed_at timestamp with time zone NOT NULL,
    num double precision,
    txt text
)
PARTITION BY RANGE (observed_at);


--
-- Name: ciudad_observations_p20261201; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_observations_p20261201 (
    tenant text NOT NULL,
    entity_id text NOT NULL,
    attr text NOT NULL,
    observed_at timestamp with time zone NOT NULL,
    num double precision,
    txt text
);


--
-- Name: ciudad_rollup_hist; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_rollup_hist (
    series_id integer NOT NULL,
    resolution_s integer NOT NULL,
    bucket timestamp with time zone NOT NULL,
    bin integer NOT NULL,
    n bigint NOT NULL
);


--
-- Name: ciudad_rollups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_rollups (
    series_id integer NOT NULL,
    resolution_s integer NOT NULL,
    bucket timestamp with time zone NOT NULL,
    n bigint NOT NULL,
    total double precision NOT NULL,
    total_sq double precision NOT NULL,
    vmin double precision NOT NULL,
    vmax double precision NOT NULL,
    first_at timestamp with time zone NOT NULL,
    first_v double precision NOT NULL,
    last_at timestamp with time zone NOT NULL,
    last_v double precision NOT NULL,
    energy double precision NOT NULL,
    packed bytea GENERATED ALWAYS AS ((((((((((((int4send(series_id) || timestamptz_send(bucket)) || int8send(n)) || float8send(total)) || float8send(total_sq)) || float8send(vmin)) || float8send(vmax)) || timestamptz_send(first_at)) || float8send(first_v)) || timestamptz_send(last_at)) || float8send(last_v)) || float8send(energy))) STORED
);


--
-- Name: ciudad_series; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_series (
    series_id integer NOT NULL,
    tenant text NOT NULL,
    entity_id text NOT NULL,
    attr text NOT NULL,
    energetic boolean NOT NULL
);


--
-- Name: ciudad_series_series_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ciudad_series_series_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ciudad_series_series_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ciudad_series_series_id_seq OWNED BY public.ciudad_series.series_id;


--
-- Name: ciudad_service_groups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_service_groups (
    apikey text NOT NULL,
    tenant text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: ciudad_subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ciudad_subscriptions (
    tenant text NOT NULL,
    id text NOT NULL,
    body jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    modified_at timestamp with time zone DEFAULT now() NOT NULL,
    times_sent bigint DEFAULT 0 NOT NULL,
    dropped bigint DEFAULT 0 NOT NULL,
    last_notification timestamp with time zone,
    last_success timestamp with time zone,
    last_failure timestamp with time zone,
    last_failure_reason text,
    last_periodic timestamp with time zone
);


--
-- Name: ciudad_observations_p20261201; Type: TABLE ATTACH; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_observations ATTACH PARTITION public.ciudad_observations_p20261201 FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2026-12-02 00:00:00+00');


--
-- Name: ciudad_changes seq; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_changes ALTER COLUMN seq SET DEFAULT nextval('public.ciudad_changes_seq_seq'::regclass);


--
-- Name: ciudad_commands id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_commands ALTER COLUMN id SET DEFAULT nextval('public.ciudad_commands_id_seq'::regclass);


--
-- Name: ciudad_dead_letters id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_dead_letters ALTER COLUMN id SET DEFAULT nextval('public.ciudad_dead_letters_id_seq'::regclass);


--
-- Name: ciudad_notifications id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_notifications ALTER COLUMN id SET DEFAULT nextval('public.ciudad_notifications_id_seq'::regclass);


--
-- Name: ciudad_series series_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_series ALTER COLUMN series_id SET DEFAULT nextval('public.ciudad_series_series_id_seq'::regclass);


--
-- Data for Name: ciudad_api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_api_keys (key_id, tenant, scope, name, secret_hash, created_at, revoked_at) FROM stdin;
1ec543e0b62e	leon	write	fixture	f68be5af0708bdce002f5e91dca8896d7ff4b8dcea4fe12e9c6a64e408f672e6	2026-12-05 12:16:38.567818+00	\N
\.


--
-- Data for Name: ciudad_api_stats; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_api_stats (tenant, minute, requests, errors) FROM stdin;
leon	2026-12-01 10:00:00+00	5	1
\.


--
-- Data for Name: ciudad_attr_state; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_attr_state (tenant, entity_id, attr, observed_at, num, txt, value_type, unit_code) FROM stdin;
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:29:00+00	79	\N	Number	2N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	status	2026-12-01 10:00:00+00	\N	ok	Text	\N
\.


--
-- Data for Name: ciudad_audit; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_audit (id, at, tenant, actor, action, target, detail, hash) FROM stdin;
1	2026-12-05 12:16:38.581308+00	leon	fixture	api_key.create	1ec543e0b62e	{}	\\x9acd076d4727eb78b03ebc6a733ad67a43ecd2a9a2ae4015cd73b56abb8338bb
\.


--
-- Data for Name: ciudad_audit_head; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_audit_head (one, last_id, hash) FROM stdin;
t	1	\\x9acd076d4727eb78b03ebc6a733ad67a43ecd2a9a2ae4015cd73b56abb8338bb
\.


--
-- Data for Name: ciudad_change_watch; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_change_watch (tenant, entity_type) FROM stdin;
leon	NoiseLevelObserved
\.


--
-- Data for Name: ciudad_changes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_changes (seq, tenant, entity_id, entity_type, attrs, changed_at) FROM stdin;
\.


--
-- Data for Name: ciudad_commands; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_commands (id, tenant, apikey, device_id, name, value, status, result, created_at, sent_at, done_at, expires_at) FROM stdin;
1	leon	fixkey	noise-001	dim	40	PENDING	\N	2026-12-05 12:16:38.564873+00	\N	\N	2026-12-05 13:16:38.564815+00
\.


--
-- Data for Name: ciudad_dead_letters; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_dead_letters (id, received_at, topic, payload, reason, detail, tenant, device_id) FROM stdin;
1	2026-12-01 10:00:00+00	/k/d/attrs	{bad	malformed	not JSON	leon	d
\.


--
-- Data for Name: ciudad_devices; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_devices (apikey, device_id, entity_type, entity_id, period_s, attributes, static_attributes, password_hash, revoked, created_at, updated_at) FROM stdin;
fixkey	noise-001	NoiseLevelObserved	\N	60	\N	{"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.56153, 42.604479]}}}	\N	f	2026-12-05 12:16:38.56103+00	2026-12-05 12:16:38.56103+00
fixkey	noise-002	NoiseLevelObserved	\N	60	\N	{"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.563501, 42.609776]}}}	\N	f	2026-12-05 12:16:38.56103+00	2026-12-05 12:16:38.56103+00
fixkey	noise-003	NoiseLevelObserved	\N	60	\N	{"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.559975, 42.593437]}}}	\N	f	2026-12-05 12:16:38.56103+00	2026-12-05 12:16:38.56103+00
\.


--
-- Data for Name: ciudad_entities; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_entities (tenant, entity_id, entity_type, static, created_at, modified_at) FROM stdin;
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	NoiseLevelObserved	{"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.57, 42.6]}}}	2026-12-05 12:16:38.542513+00	2026-12-05 12:16:38.542513+00
\.


--
-- Data for Name: ciudad_ingest_stats; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_ingest_stats (tenant, minute, readings, buckets) FROM stdin;
leon	2026-12-05 12:16:00+00	31	{0,0,0,0,0,0,0,0,31}
\.


--
-- Data for Name: ciudad_notifications; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_notifications (id, tenant, subscription_id, data, due_at, attempts, last_error) FROM stdin;
\.


--
-- Data for Name: ciudad_observations_p20261201; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_observations_p20261201 (tenant, entity_id, attr, observed_at, num, txt) FROM stdin;
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:00:00+00	50	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:01:00+00	51	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:02:00+00	52	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:03:00+00	53	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:04:00+00	54	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:05:00+00	55	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:06:00+00	56	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:07:00+00	57	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:08:00+00	58	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:09:00+00	59	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:10:00+00	60	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:11:00+00	61	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:12:00+00	62	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:13:00+00	63	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:14:00+00	64	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:15:00+00	65	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:16:00+00	66	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:17:00+00	67	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:18:00+00	68	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:19:00+00	69	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:20:00+00	70	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:21:00+00	71	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:22:00+00	72	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:23:00+00	73	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:24:00+00	74	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:25:00+00	75	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:26:00+00	76	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:27:00+00	77	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:28:00+00	78	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	2026-12-01 10:29:00+00	79	\N
leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	status	2026-12-01 10:00:00+00	\N	ok
\.


--
-- Data for Name: ciudad_rollup_hist; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_rollup_hist (series_id, resolution_s, bucket, bin, n) FROM stdin;
1	900	2026-12-01 10:00:00+00	100	1
1	900	2026-12-01 10:00:00+00	102	1
1	900	2026-12-01 10:00:00+00	104	1
1	900	2026-12-01 10:00:00+00	106	1
1	900	2026-12-01 10:00:00+00	108	1
1	900	2026-12-01 10:00:00+00	110	1
1	900	2026-12-01 10:00:00+00	112	1
1	900	2026-12-01 10:00:00+00	114	1
1	900	2026-12-01 10:00:00+00	116	1
1	900	2026-12-01 10:00:00+00	118	1
1	900	2026-12-01 10:00:00+00	120	1
1	900	2026-12-01 10:00:00+00	122	1
1	900	2026-12-01 10:00:00+00	124	1
1	900	2026-12-01 10:00:00+00	126	1
1	900	2026-12-01 10:00:00+00	128	1
1	900	2026-12-01 10:15:00+00	130	1
1	900	2026-12-01 10:15:00+00	132	1
1	900	2026-12-01 10:15:00+00	134	1
1	900	2026-12-01 10:15:00+00	136	1
1	900	2026-12-01 10:15:00+00	138	1
1	900	2026-12-01 10:15:00+00	140	1
1	900	2026-12-01 10:15:00+00	142	1
1	900	2026-12-01 10:15:00+00	144	1
1	900	2026-12-01 10:15:00+00	146	1
1	900	2026-12-01 10:15:00+00	148	1
1	900	2026-12-01 10:15:00+00	150	1
1	900	2026-12-01 10:15:00+00	152	1
1	900	2026-12-01 10:15:00+00	154	1
1	900	2026-12-01 10:15:00+00	156	1
1	900	2026-12-01 10:15:00+00	158	1
1	3600	2026-12-01 10:00:00+00	100	1
1	3600	2026-12-01 10:00:00+00	102	1
1	3600	2026-12-01 10:00:00+00	104	1
1	3600	2026-12-01 10:00:00+00	106	1
1	3600	2026-12-01 10:00:00+00	108	1
1	3600	2026-12-01 10:00:00+00	110	1
1	3600	2026-12-01 10:00:00+00	112	1
1	3600	2026-12-01 10:00:00+00	114	1
1	3600	2026-12-01 10:00:00+00	116	1
1	3600	2026-12-01 10:00:00+00	118	1
1	3600	2026-12-01 10:00:00+00	120	1
1	3600	2026-12-01 10:00:00+00	122	1
1	3600	2026-12-01 10:00:00+00	124	1
1	3600	2026-12-01 10:00:00+00	126	1
1	3600	2026-12-01 10:00:00+00	128	1
1	3600	2026-12-01 10:00:00+00	130	1
1	3600	2026-12-01 10:00:00+00	132	1
1	3600	2026-12-01 10:00:00+00	134	1
1	3600	2026-12-01 10:00:00+00	136	1
1	3600	2026-12-01 10:00:00+00	138	1
1	3600	2026-12-01 10:00:00+00	140	1
1	3600	2026-12-01 10:00:00+00	142	1
1	3600	2026-12-01 10:00:00+00	144	1
1	3600	2026-12-01 10:00:00+00	146	1
1	3600	2026-12-01 10:00:00+00	148	1
1	3600	2026-12-01 10:00:00+00	150	1
1	3600	2026-12-01 10:00:00+00	152	1
1	3600	2026-12-01 10:00:00+00	154	1
1	3600	2026-12-01 10:00:00+00	156	1
1	3600	2026-12-01 10:00:00+00	158	1
1	86400	2026-12-01 00:00:00+00	100	1
1	86400	2026-12-01 00:00:00+00	102	1
1	86400	2026-12-01 00:00:00+00	104	1
1	86400	2026-12-01 00:00:00+00	106	1
1	86400	2026-12-01 00:00:00+00	108	1
1	86400	2026-12-01 00:00:00+00	110	1
1	86400	2026-12-01 00:00:00+00	112	1
1	86400	2026-12-01 00:00:00+00	114	1
1	86400	2026-12-01 00:00:00+00	116	1
1	86400	2026-12-01 00:00:00+00	118	1
1	86400	2026-12-01 00:00:00+00	120	1
1	86400	2026-12-01 00:00:00+00	122	1
1	86400	2026-12-01 00:00:00+00	124	1
1	86400	2026-12-01 00:00:00+00	126	1
1	86400	2026-12-01 00:00:00+00	128	1
1	86400	2026-12-01 00:00:00+00	130	1
1	86400	2026-12-01 00:00:00+00	132	1
1	86400	2026-12-01 00:00:00+00	134	1
1	86400	2026-12-01 00:00:00+00	136	1
1	86400	2026-12-01 00:00:00+00	138	1
1	86400	2026-12-01 00:00:00+00	140	1
1	86400	2026-12-01 00:00:00+00	142	1
1	86400	2026-12-01 00:00:00+00	144	1
1	86400	2026-12-01 00:00:00+00	146	1
1	86400	2026-12-01 00:00:00+00	148	1
1	86400	2026-12-01 00:00:00+00	150	1
1	86400	2026-12-01 00:00:00+00	152	1
1	86400	2026-12-01 00:00:00+00	154	1
1	86400	2026-12-01 00:00:00+00	156	1
1	86400	2026-12-01 00:00:00+00	158	1
\.


--
-- Data for Name: ciudad_rollups; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_rollups (series_id, resolution_s, bucket, n, total, total_sq, vmin, vmax, first_at, first_v, last_at, last_v, energy) FROM stdin;
1	60	2026-12-01 10:00:00+00	1	50	2500	50	50	2026-12-01 10:00:00+00	50	2026-12-01 10:00:00+00	50	100000.00000000001
1	60	2026-12-01 10:01:00+00	1	51	2601	51	51	2026-12-01 10:01:00+00	51	2026-12-01 10:01:00+00	51	125892.54117941685
1	60	2026-12-01 10:02:00+00	1	52	2704	52	52	2026-12-01 10:02:00+00	52	2026-12-01 10:02:00+00	52	158489.31924611135
1	60	2026-12-01 10:03:00+00	1	53	2809	53	53	2026-12-01 10:03:00+00	53	2026-12-01 10:03:00+00	53	199526.23149688813
1	60	2026-12-01 10:04:00+00	1	54	2916	54	54	2026-12-01 10:04:00+00	54	2026-12-01 10:04:00+00	54	251188.64315095844
1	60	2026-12-01 10:05:00+00	1	55	3025	55	55	2026-12-01 10:05:00+00	55	2026-12-01 10:05:00+00	55	316227.76601683814
1	60	2026-12-01 10:06:00+00	1	56	3136	56	56	2026-12-01 10:06:00+00	56	2026-12-01 10:06:00+00	56	398107.17055349785
1	60	2026-12-01 10:07:00+00	1	57	3249	57	57	2026-12-01 10:07:00+00	57	2026-12-01 10:07:00+00	57	501187.2336272726
1	60	2026-12-01 10:08:00+00	1	58	3364	58	58	2026-12-01 10:08:00+00	58	2026-12-01 10:08:00+00	58	630957.3444801942
1	60	2026-12-01 10:09:00+00	1	59	3481	59	59	2026-12-01 10:09:00+00	59	2026-12-01 10:09:00+00	59	794328.2347242819
1	60	2026-12-01 10:10:00+00	1	60	3600	60	60	2026-12-01 10:10:00+00	60	2026-12-01 10:10:00+00	60	1000000.0000000013
1	60	2026-12-01 10:11:00+00	1	61	3721	61	61	2026-12-01 10:11:00+00	61	2026-12-01 10:11:00+00	61	1258925.4117941677
1	60	2026-12-01 10:12:00+00	1	62	3844	62	62	2026-12-01 10:12:00+00	62	2026-12-01 10:12:00+00	62	1584893.1924611153
1	60	2026-12-01 10:13:00+00	1	63	3969	63	63	2026-12-01 10:13:00+00	63	2026-12-01 10:13:00+00	63	1995262.31496888
1	60	2026-12-01 10:14:00+00	1	64	4096	64	64	2026-12-01 10:14:00+00	64	2026-12-01 10:14:00+00	64	2511886.431509583
1	60	2026-12-01 10:15:00+00	1	65	4225	65	65	2026-12-01 10:15:00+00	65	2026-12-01 10:15:00+00	65	3162277.660168385
1	60	2026-12-01 10:16:00+00	1	66	4356	66	66	2026-12-01 10:16:00+00	66	2026-12-01 10:16:00+00	66	3981071.705534976
1	60	2026-12-01 10:17:00+00	1	67	4489	67	67	2026-12-01 10:17:00+00	67	2026-12-01 10:17:00+00	67	5011872.336272731
1	60	2026-12-01 10:18:00+00	1	68	4624	68	68	2026-12-01 10:18:00+00	68	2026-12-01 10:18:00+00	68	6309573.444801937
1	60	2026-12-01 10:19:00+00	1	69	4761	69	69	2026-12-01 10:19:00+00	69	2026-12-01 10:19:00+00	69	7943282.3472428275
1	60	2026-12-01 10:20:00+00	1	70	4900	70	70	2026-12-01 10:20:00+00	70	2026-12-01 10:20:00+00	70	10000000.000000006
1	60	2026-12-01 10:21:00+00	1	71	5041	71	71	2026-12-01 10:21:00+00	71	2026-12-01 10:21:00+00	71	12589254.117941668
1	60	2026-12-01 10:22:00+00	1	72	5184	72	72	2026-12-01 10:22:00+00	72	2026-12-01 10:22:00+00	72	15848931.924611172
1	60	2026-12-01 10:23:00+00	1	73	5329	73	73	2026-12-01 10:23:00+00	73	2026-12-01 10:23:00+00	73	19952623.14968882
1	60	2026-12-01 10:24:00+00	1	74	5476	74	74	2026-12-01 10:24:00+00	74	2026-12-01 10:24:00+00	74	25118864.31509581
1	60	2026-12-01 10:25:00+00	1	75	5625	75	75	2026-12-01 10:25:00+00	75	2026-12-01 10:25:00+00	75	31622776.60168389
1	60	2026-12-01 10:26:00+00	1	76	5776	76	76	2026-12-01 10:26:00+00	76	2026-12-01 10:26:00+00	76	39810717.055349804
1	60	2026-12-01 10:27:00+00	1	77	5929	77	77	2026-12-01 10:27:00+00	77	2026-12-01 10:27:00+00	77	50118723.362727284
1	60	2026-12-01 10:28:00+00	1	78	6084	78	78	2026-12-01 10:28:00+00	78	2026-12-01 10:28:00+00	78	63095734.44801933
1	60	2026-12-01 10:29:00+00	1	79	6241	79	79	2026-12-01 10:29:00+00	79	2026-12-01 10:29:00+00	79	79432823.47242837
1	900	2026-12-01 10:00:00+00	15	855	49015	50	64	2026-12-01 10:00:00+00	50	2026-12-01 10:14:00+00	64	11826871.835209206
1	900	2026-12-01 10:15:00+00	15	1080	78040	65	79	2026-12-01 10:15:00+00	65	2026-12-01 10:29:00+00	79	373998525.94156706
1	3600	2026-12-01 10:00:00+00	30	1935	127055	50	79	2026-12-01 10:00:00+00	50	2026-12-01 10:29:00+00	79	385825397.77677625
1	86400	2026-12-01 00:00:00+00	30	1935	127055	50	79	2026-12-01 10:00:00+00	50	2026-12-01 10:29:00+00	79	385825397.77677625
\.


--
-- Data for Name: ciudad_series; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_series (series_id, tenant, entity_id, attr, energetic) FROM stdin;
1	leon	urn:ngsi-ld:NoiseLevelObserved:fix-1	LAeq	t
\.


--
-- Data for Name: ciudad_service_groups; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_service_groups (apikey, tenant, created_at) FROM stdin;
fixkey	leon	2026-12-05 12:16:38.559652+00
\.


--
-- Data for Name: ciudad_subscriptions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.ciudad_subscriptions (tenant, id, body, created_at, modified_at, times_sent, dropped, last_notification, last_success, last_failure, last_failure_reason, last_periodic) FROM stdin;
leon	urn:ngsi-ld:Subscription:fix	{"id": "urn:ngsi-ld:Subscription:fix", "type": "Subscription", "entities": [{"type": "NoiseLevelObserved"}], "isActive": true, "notification": {"format": "normalized", "endpoint": {"uri": "http://127.0.0.1:9/notify", "accept": "application/json"}}}	2026-12-05 12:16:38.572865+00	2026-12-05 12:16:38.572865+00	0	0	\N	\N	\N	\N	\N
\.


--
-- Name: ciudad_audit_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ciudad_audit_id_seq', 1, true);


--
-- Name: ciudad_changes_seq_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ciudad_changes_seq_seq', 1, false);


--
-- Name: ciudad_commands_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ciudad_commands_id_seq', 1, true);


--
-- Name: ciudad_dead_letters_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ciudad_dead_letters_id_seq', 1, true);


--
-- Name: ciudad_notifications_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ciudad_notifications_id_seq', 1, false);


--
-- Name: ciudad_series_series_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ciudad_series_series_id_seq', 1, true);


--
-- Name: ciudad_api_keys ciudad_api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_api_keys
    ADD CONSTRAINT ciudad_api_keys_pkey PRIMARY KEY (key_id);


--
-- Name: ciudad_api_stats ciudad_api_stats_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_api_stats
    ADD CONSTRAINT ciudad_api_stats_pkey PRIMARY KEY (tenant, minute);


--
-- Name: ciudad_attr_state ciudad_attr_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_attr_state
    ADD CONSTRAINT ciudad_attr_state_pkey PRIMARY KEY (tenant, entity_id, attr);


--
-- Name: ciudad_audit_head ciudad_audit_head_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_audit_head
    ADD CONSTRAINT ciudad_audit_head_pkey PRIMARY KEY (one);


--
-- Name: ciudad_audit ciudad_audit_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_audit
    ADD CONSTRAINT ciudad_audit_pkey PRIMARY KEY (id);


--
-- Name: ciudad_change_watch ciudad_change_watch_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_change_watch
    ADD CONSTRAINT ciudad_change_watch_pkey PRIMARY KEY (tenant, entity_type);


--
-- Name: ciudad_changes ciudad_changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_changes
    ADD CONSTRAINT ciudad_changes_pkey PRIMARY KEY (seq);


--
-- Name: ciudad_commands ciudad_commands_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_commands
    ADD CONSTRAINT ciudad_commands_pkey PRIMARY KEY (id);


--
-- Name: ciudad_dead_letters ciudad_dead_letters_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_dead_letters
    ADD CONSTRAINT ciudad_dead_letters_pkey PRIMARY KEY (id);


--
-- Name: ciudad_devices ciudad_devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_devices
    ADD CONSTRAINT ciudad_devices_pkey PRIMARY KEY (apikey, device_id);


--
-- Name: ciudad_entities ciudad_entities_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_entities
    ADD CONSTRAINT ciudad_entities_pkey PRIMARY KEY (tenant, entity_id);


--
-- Name: ciudad_ingest_stats ciudad_ingest_stats_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_ingest_stats
    ADD CONSTRAINT ciudad_ingest_stats_pkey PRIMARY KEY (tenant, minute);


--
-- Name: ciudad_notifications ciudad_notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_notifications
    ADD CONSTRAINT ciudad_notifications_pkey PRIMARY KEY (id);


--
-- Name: ciudad_observations ciudad_observations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_observations
    ADD CONSTRAINT ciudad_observations_pkey PRIMARY KEY (tenant, entity_id, attr, observed_at);


--
-- Name: ciudad_observations_p20261201 ciudad_observations_p20261201_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_observations_p20261201
    ADD CONSTRAINT ciudad_observations_p20261201_pkey PRIMARY KEY (tenant, entity_id, attr, observed_at);


--
-- Name: ciudad_rollup_hist ciudad_rollup_hist_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_rollup_hist
    ADD CONSTRAINT ciudad_rollup_hist_pkey PRIMARY KEY (series_id, resolution_s, bucket, bin);


--
-- Name: ciudad_rollups ciudad_rollups_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_rollups
    ADD CONSTRAINT ciudad_rollups_pkey PRIMARY KEY (series_id, resolution_s, bucket);


--
-- Name: ciudad_series ciudad_series_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_series
    ADD CONSTRAINT ciudad_series_pkey PRIMARY KEY (series_id);


--
-- Name: ciudad_series ciudad_series_tenant_entity_id_attr_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_series
    ADD CONSTRAINT ciudad_series_tenant_entity_id_attr_key UNIQUE (tenant, entity_id, attr);


--
-- Name: ciudad_service_groups ciudad_service_groups_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_service_groups
    ADD CONSTRAINT ciudad_service_groups_pkey PRIMARY KEY (apikey);


--
-- Name: ciudad_subscriptions ciudad_subscriptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_subscriptions
    ADD CONSTRAINT ciudad_subscriptions_pkey PRIMARY KEY (tenant, id);


--
-- Name: ciudad_audit_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_audit_tenant ON public.ciudad_audit USING btree (tenant, id);


--
-- Name: ciudad_commands_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_commands_open ON public.ciudad_commands USING btree (status, device_id) WHERE (status = ANY (ARRAY['PENDING'::text, 'SENT'::text]));


--
-- Name: ciudad_dead_letters_tenant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_dead_letters_tenant ON public.ciudad_dead_letters USING btree (tenant, id);


--
-- Name: ciudad_entities_type; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_entities_type ON public.ciudad_entities USING btree (tenant, entity_type, entity_id);


--
-- Name: ciudad_notifications_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_notifications_due ON public.ciudad_notifications USING btree (due_at);


--
-- Name: ciudad_notifications_subscription; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_notifications_subscription ON public.ciudad_notifications USING btree (tenant, subscription_id, id);


--
-- Name: ciudad_rollup_hist_age; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_rollup_hist_age ON public.ciudad_rollup_hist USING brin (bucket);


--
-- Name: ciudad_rollups_age; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ciudad_rollups_age ON public.ciudad_rollups USING brin (bucket);


--
-- Name: ciudad_observations_p20261201_pkey; Type: INDEX ATTACH; Schema: public; Owner: -
--

ALTER INDEX public.ciudad_observations_pkey ATTACH PARTITION public.ciudad_observations_p20261201_pkey;


--
-- Name: ciudad_audit ciudad_audit_chain; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ciudad_audit_chain BEFORE INSERT ON public.ciudad_audit FOR EACH ROW EXECUTE FUNCTION public.ciudad_audit_chain();


--
-- Name: ciudad_audit ciudad_audit_no_change; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ciudad_audit_no_change BEFORE DELETE OR UPDATE ON public.ciudad_audit FOR EACH ROW EXECUTE FUNCTION public.ciudad_audit_append_only();


--
-- Name: ciudad_audit ciudad_audit_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER ciudad_audit_no_truncate BEFORE TRUNCATE ON public.ciudad_audit FOR EACH STATEMENT EXECUTE FUNCTION public.ciudad_audit_append_only();


--
-- Name: ciudad_devices ciudad_devices_apikey_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_devices
    ADD CONSTRAINT ciudad_devices_apikey_fkey FOREIGN KEY (apikey) REFERENCES public.ciudad_service_groups(apikey) ON DELETE RESTRICT;


--
-- Name: ciudad_notifications ciudad_notifications_tenant_subscription_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ciudad_notifications
    ADD CONSTRAINT ciudad_notifications_tenant_subscription_id_fkey FOREIGN KEY (tenant, subscription_id) REFERENCES public.ciudad_subscriptions(tenant, id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

