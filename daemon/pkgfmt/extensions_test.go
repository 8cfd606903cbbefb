package pkgfmt_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
)

// kindManifest is a manifest providing what plugins names (an indented
// yaml block under plugins:).
func kindManifest(name, plugins string) string {
	return `version: 0.0.3
type: plugin
author: acme
name: ` + name + `
label:
  en_US: ` + name + `
description:
  en_US: A plugin of acme.
icon: icon.svg
created_at: "2025-06-01T00:00:00Z"
resource:
  memory: 268435456
  permission:
    endpoint:
      enabled: true
    app:
      enabled: true
plugins:
` + plugins + `meta:
  version: 0.0.1
  arch:
    - amd64
    - arm64
  runner:
    language: python
    version: "3.12"
    entrypoint: main
tags:
  - social
`
}

const chatBotGroup = `settings:
  - name: bot_token
    type: secret-input
    required: true
    label:
      en_US: Bot token
  - name: app
    type: app-selector
    scope: chat
    required: true
    label:
      en_US: App
endpoints:
  - endpoints/events.yaml
  - endpoints/health.yaml
`

// endpointFiles is an extension plugin shaped like the official chat bots:
// a group with settings and two endpoints.
func endpointFiles() files {
	return files{
		{name: "manifest.yaml", body: kindManifest("chat_bot", "  endpoints:\n    - group/chat_bot.yaml\n")},
		{name: "_assets/icon.svg", body: "<svg/>"},
		{name: "group/chat_bot.yaml", body: chatBotGroup},
		{name: "endpoints/events.yaml", body: "path: /events\nmethod: POST\nextra:\n  python:\n    source: endpoints/events.py\n"},
		{name: "endpoints/health.yaml", body: "path: /health\nmethod: GET\nhidden: true\nextra:\n  python:\n    source: endpoints/health.py\n"},
		{name: "main.py", body: "print('hi')\n"},
	}
}

const agentProvider = `identity:
  author: acme
  name: agent
  label:
    en_US: Acme agent
  description:
    en_US: Agent strategies of acme.
  icon: icon.svg
strategies:
  - strategies/react.yaml
extra:
  python:
    source: provider/agent.py
`

const reactStrategy = `identity:
  name: react
  author: acme
  label:
    en_US: ReAct
description:
  en_US: Reasons and acts in turns.
parameters:
  - name: model
    type: model-selector
    scope: tool-call&llm
    required: true
    label:
      en_US: Model
  - name: tools
    type: array[tools]
    required: true
    label:
      en_US: Tools
  - name: maximum_iterations
    type: number
    required: true
    default: 3
    min: 1
    max: 30
    label:
      en_US: Maximum iterations
features:
  - history-messages
extra:
  python:
    source: strategies/react.py
`

func agentFiles() files {
	return files{
		{name: "manifest.yaml", body: kindManifest("agent", "  agent_strategies:\n    - provider/agent.yaml\n")},
		{name: "_assets/icon.svg", body: "<svg/>"},
		{name: "provider/agent.yaml", body: agentProvider},
		{name: "strategies/react.yaml", body: reactStrategy},
	}
}

const datasourceProvider = `identity:
  author: acme
  name: notes
  label:
    en_US: Notes
  description:
    en_US: Documents from Notes.
  icon: icon.svg
provider_type: online_document
credentials_schema:
  - name: api_key
    type: secret-input
    required: true
    label:
      en_US: API key
datasources:
  - datasources/pages.yaml
extra:
  python:
    source: provider/notes.py
`

const pagesDatasource = `identity:
  name: pages
  author: acme
  label:
    en_US: Pages
description:
  en_US: The pages of a workspace.
parameters:
  - name: workspace
    type: string
    required: false
    label:
      en_US: Workspace
    description:
      en_US: Leave empty for all
extra:
  python:
    source: datasources/pages.py
`

func datasourceFiles() files {
	return files{
		{name: "manifest.yaml", body: kindManifest("notes", "  datasources:\n    - provider/notes.yaml\n")},
		{name: "_assets/icon.svg", body: "<svg/>"},
		{name: "provider/notes.yaml", body: datasourceProvider},
		{name: "datasources/pages.yaml", body: pagesDatasource},
	}
}

const triggerProvider = `identity:
  author: acme
  name: repo_events
  label:
    en_US: Repository events
  description:
    en_US: Events of a code repository.
  icon: icon.svg
subscription_schema:
  - name: webhook_secret
    type: secret-input
    label:
      en_US: Webhook secret
events:
  - events/push.yaml
extra:
  python:
    source: provider/repo_events.py
`

const pushEvent = `identity:
  name: push
  author: acme
  label:
    en_US: Push
description:
  human:
    en_US: Commits were pushed.
  llm:
    en_US: Fires when commits are pushed to a branch.
parameters:
  - name: branch
    type: string
    label:
      en_US: Branch
extra:
  python:
    source: events/push.py
`

func triggerFiles() files {
	return files{
		{name: "manifest.yaml", body: kindManifest("repo_events", "  triggers:\n    - provider/repo_events.yaml\n")},
		{name: "_assets/icon.svg", body: "<svg/>"},
		{name: "provider/repo_events.yaml", body: triggerProvider},
		{name: "events/push.yaml", body: pushEvent},
	}
}

func TestDecodeExtensions(t *testing.T) {
	t.Run("OKEndpoints", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, endpointFiles(), ""))
		g := p.Manifest.Endpoint
		if p.Manifest.Category() != plugboard.CategoryExtension || g == nil || len(g.Settings) != 2 || g.Settings[1].Scope != "chat" {
			t.Fatalf("endpoint = %+v", g)
		}
		if len(g.Endpoints) != 2 || g.Endpoints[0] != (plugboard.Endpoint{Path: "/events", Method: "POST"}) || !g.Endpoints[1].Hidden {
			t.Errorf("endpoints = %+v", g.Endpoints)
		}
		data := mustJSON(t, p.Manifest)
		if !strings.Contains(data, `"endpoint":{"settings":[{"name":"bot_token"`) || !strings.Contains(data, `"endpoints":[{"path":"/events","method":"POST","hidden":false}`) {
			t.Errorf("declaration JSON = %s", data)
		}
	})
	t.Run("OKAgentStrategies", func(t *testing.T) {
		m := MustDecode(t, MustZip(t, agentFiles(), "")).Manifest
		a := m.AgentStrategy
		if m.Category() != plugboard.CategoryAgentStrategy || a == nil || len(a.Strategies) != 1 {
			t.Fatalf("agent_strategy = %+v", a)
		}
		s := a.Strategies[0]
		if s.Identity.Name != "react" || len(s.Parameters) != 3 || s.Parameters[2].Default != uint64(3) || s.Features[0] != "history-messages" {
			t.Errorf("strategy = %+v", s)
		}
		if data := mustJSON(t, m); !strings.Contains(data, `"agent_strategy":{"identity":{"author":"acme","name":"agent"`) {
			t.Errorf("declaration JSON = %s", data)
		}
	})
	t.Run("OKDatasources", func(t *testing.T) {
		m := MustDecode(t, MustZip(t, datasourceFiles(), "")).Manifest
		ds := m.Datasource
		if m.Category() != plugboard.CategoryDatasource || ds == nil || ds.ProviderType != "online_document" || len(ds.Credentials) != 1 {
			t.Fatalf("datasource = %+v", ds)
		}
		if len(ds.Datasources) != 1 || ds.Datasources[0].Parameters[0].Description.English() != "Leave empty for all" {
			t.Errorf("datasources = %+v", ds.Datasources)
		}
	})
	t.Run("OKTriggers", func(t *testing.T) {
		m := MustDecode(t, MustZip(t, triggerFiles(), "")).Manifest
		tr := m.Trigger
		if m.Category() != plugboard.CategoryTrigger || tr == nil || len(tr.Triggers) != 1 {
			t.Fatalf("trigger = %+v", tr)
		}
		if ev := tr.Triggers[0]; ev.Identity.Name != "push" || ev.HumanDescription() != "Commits were pushed." {
			t.Errorf("trigger = %+v", ev)
		}
		props, _ := tr.SubscriptionSchema["properties_schema"].([]any)
		if len(props) != 1 || len(tr.Identity.Tags) != 1 || tr.Identity.Tags[0] != "social" {
			t.Errorf("subscription_schema = %v, tags = %v", tr.SubscriptionSchema, tr.Identity.Tags)
		}
	})
	t.Run("WarnStrategyNameAndType", func(t *testing.T) {
		zf := agentFiles().edit(t, "strategies/react.yaml", "  name: react\n", "  name: re.act\n").
			edit(t, "strategies/react.yaml", "type: number", "type: integer")
		w := MustDecode(t, MustZip(t, zf, "")).Warnings
		if len(w) != 2 || w[0].Field != "identity.name" || w[0].Line != 2 || w[1].Field != "parameters[2].type" || w[1].Line != 21 {
			t.Errorf("warnings = %v", w)
		}
	})
	t.Run("WarnUnknownMethod", func(t *testing.T) {
		zf := endpointFiles().edit(t, "endpoints/health.yaml", "method: GET", "method: PATCH")
		w := MustDecode(t, MustZip(t, zf, "")).Warnings
		if len(w) != 1 || w[0].File != "endpoints/health.yaml" || w[0].Field != "method" || w[0].Line != 2 {
			t.Errorf("warnings = %v", w)
		}
	})
}

func TestDecodeExtensionsBadYAML(t *testing.T) {
	cases := []struct {
		name              string
		files             files
		file, field, want string
		line              int
	}{
		{"ErrEndpointGroupMissing", endpointFiles().without("group/chat_bot.yaml"),
			"manifest.yaml", "plugins.endpoints[0]", `file "group/chat_bot.yaml" is not in the package`, 20},
		{"ErrEndpointFileMissing", endpointFiles().without("endpoints/health.yaml"),
			"group/chat_bot.yaml", "endpoints[1]", `endpoint file "endpoints/health.yaml" is not in the package`, 15},
		{"ErrEndpointNoPath", endpointFiles().edit(t, "endpoints/events.yaml", "path: /events\n", ""),
			"endpoints/events.yaml", "path", "required", 0},
		{"ErrEndpointRelativePath", endpointFiles().edit(t, "endpoints/events.yaml", "path: /events", "path: events"),
			"endpoints/events.yaml", "path", `"events" must start with /`, 1},
		{"ErrSettingType", endpointFiles().edit(t, "group/chat_bot.yaml", "type: secret-input", "type: password"),
			"group/chat_bot.yaml", "settings[0].type", `unknown credential type "password"`, 3},
		{"ErrSettingsNotList", endpointFiles().edit(t, "group/chat_bot.yaml", "settings:\n", "settings: yes\nx:\n"),
			"group/chat_bot.yaml", "settings", "must be a map of fields keyed by name, or a list of fields", 1},
		{"ErrStrategyNoLabel", agentFiles().edit(t, "strategies/react.yaml", "  label:\n    en_US: ReAct\n", ""),
			"strategies/react.yaml", "identity.label", "required", 1},
		{"ErrStrategyParamNoType", agentFiles().edit(t, "strategies/react.yaml", "    type: array[tools]\n", ""),
			"strategies/react.yaml", "parameters[1].type", "required", 15},
		{"ErrStrategyDefaultType", agentFiles().edit(t, "strategies/react.yaml", "min: 1", "min: [1]"),
			"strategies/react.yaml", "parameters[2].min", "must be a number, not a list", 24},
		{"ErrAgentProviderIcon", agentFiles().without("_assets/icon.svg").with("_assets/other.svg", "<svg/>").
			edit(t, "manifest.yaml", "icon: icon.svg", "icon: other.svg"),
			"provider/agent.yaml", "identity.icon", `icon "icon.svg" is not in the package`, 8},
		{"ErrNoStrategies", agentFiles().edit(t, "provider/agent.yaml", "strategies:\n  - strategies/react.yaml\n", ""),
			"provider/agent.yaml", "strategies", "needs a list of strategy yaml files", 0},
		{"ErrDatasourceType", datasourceFiles().edit(t, "provider/notes.yaml", "provider_type: online_document\n", ""),
			"provider/notes.yaml", "provider_type", "required", 0},
		{"ErrDatasourceDescription", datasourceFiles().edit(t, "datasources/pages.yaml", "description:\n  en_US: The pages of a workspace.\n", ""),
			"datasources/pages.yaml", "description", "required", 0},
		{"ErrTriggerDescription", triggerFiles().edit(t, "events/push.yaml", "    en_US: Commits were pushed.\n", "    zh_Hans: 推送\n"),
			"events/push.yaml", "description.human.en_US", "required", 7},
		{"ErrTriggerSyntax", triggerFiles().edit(t, "events/push.yaml", "  name: push\n", "  name: push: x\n"),
			"events/push.yaml", "", "bad yaml", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := MustReject(t, decodeErr(t, MustZip(t, c.files, "")), c.file, c.field, c.want)
			if e.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", e.Line, c.line, e)
			}
		})
	}
}
