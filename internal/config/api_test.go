package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAPITokens(t *testing.T) {
	t.Parallel()
	const two = `
api:
  tokens:
    - {name: ci, token_env: SITREP_TOKEN_CI}
    - name: " deploy-bot.v2 "
      token_env: " SITREP_TOKEN_DEPLOY "
`
	secrets := map[string]string{"SITREP_TOKEN_CI": " ci-secret-1 ", "SITREP_TOKEN_DEPLOY": "deploy-secret-2"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range secrets {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		file string
		env  map[string]string
		// want lists the tokens as name=secret; wantLoad and wantTokens
		// are in the errors of Load and APITokens.
		want                 []string
		wantLoad, wantTokens string
	}{
		{name: "none", file: "", want: nil},
		{name: "SITREP_API_TOKEN alone is named api", env: map[string]string{"SITREP_API_TOKEN": "legacy"}, want: []string{"api=legacy"}},
		{name: "named tokens", file: two, env: secrets, want: []string{"ci=ci-secret-1", "deploy-bot.v2=deploy-secret-2"}},
		{name: "named tokens and SITREP_API_TOKEN", file: two, env: with(map[string]string{"SITREP_API_TOKEN": "legacy"}),
			want: []string{"ci=ci-secret-1", "deploy-bot.v2=deploy-secret-2", "api=legacy"}},
		{name: "a token reading SITREP_API_TOKEN renames it", file: "api:\n  tokens: [{name: jenkins, token_env: SITREP_API_TOKEN}]\n",
			env: map[string]string{"SITREP_API_TOKEN": "legacy"}, want: []string{"jenkins=legacy"}},
		{name: "a token named api without SITREP_API_TOKEN", file: "api:\n  tokens: [{name: api, token_env: SITREP_TOKEN_CI}]\n",
			env: secrets, want: []string{"api=ci-secret-1"}},

		{name: "name missing", file: "api:\n  tokens: [{token_env: SITREP_TOKEN_CI}]\n", env: secrets,
			wantLoad: "sitrep.yaml: api.tokens[0]: name: missing: name the token, e.g. ci"},
		{name: "name not a slug", file: "api:\n  tokens: [{name: \"CI pipeline\", token_env: SITREP_TOKEN_CI}]\n", env: secrets,
			wantLoad: `sitrep.yaml: api.tokens[0]: name "CI pipeline": use letters, digits, - _ and .`},
		{name: "name with a colon", file: "api:\n  tokens: [{name: \"api:ci\", token_env: SITREP_TOKEN_CI}]\n", env: secrets,
			wantLoad: `api.tokens[0]: name "api:ci": use letters, digits`},
		{name: "name too long", file: "api:\n  tokens: [{name: " + strings.Repeat("x", 65) + ", token_env: SITREP_TOKEN_CI}]\n", env: secrets,
			wantLoad: "at most 64"},
		{name: "name used twice", file: "api:\n  tokens: [{name: ci, token_env: SITREP_TOKEN_CI}, {name: CI, token_env: SITREP_TOKEN_DEPLOY}]\n", env: secrets,
			wantLoad: `sitrep.yaml: api token "CI": name: used by two tokens ("ci" and "CI")`},
		{name: "token_env missing", file: "api:\n  tokens: [{name: ci}]\n", env: secrets,
			wantLoad: `sitrep.yaml: api token "ci": token_env: missing: name the environment variable that holds the token's secret, e.g. SITREP_TOKEN_CI`},
		{name: "token_env not a variable name", file: "api:\n  tokens: [{name: ci, token_env: 9-s3cr3t-value}]\n", env: secrets,
			wantLoad: `sitrep.yaml: api token "ci": token_env is not an environment variable name`},
		{name: "token_env read twice", file: "api:\n  tokens: [{name: ci, token_env: SITREP_TOKEN_CI}, {name: cd, token_env: SITREP_TOKEN_CI}]\n", env: secrets,
			wantLoad: `sitrep.yaml: api token "cd": token_env SITREP_TOKEN_CI: also read by token "ci"`},
		{name: "token_env a Slack token", file: "api:\n  tokens: [{name: ci, token_env: SLACK_BOT_TOKEN}]\n", env: secrets,
			wantLoad: `sitrep.yaml: api token "ci": token_env SLACK_BOT_TOKEN holds the Slack bot token`},
		{name: "the secret in the file", file: "api:\n  tokens: [{name: ci, token: s3cr3t}]\n", env: secrets,
			wantLoad: "field token not found"},

		{name: "variable unset", file: two, env: map[string]string{"SITREP_TOKEN_CI": "ci-secret-1"},
			wantTokens: `sitrep.yaml: api token "deploy-bot.v2": SITREP_TOKEN_DEPLOY is not set: set it to the token's secret`},
		{name: "variables blank", file: two, env: map[string]string{"SITREP_TOKEN_CI": "  ", "SITREP_API_TOKEN": "legacy"},
			wantTokens: "SITREP_TOKEN_CI is not set: set it to the token's secret (e.g. the output of openssl rand -hex 32), or remove the token from api.tokens\n" +
				`sitrep.yaml: api token "deploy-bot.v2": SITREP_TOKEN_DEPLOY is not set`},
		{name: "renaming token's variable unset", file: "api:\n  tokens: [{name: jenkins, token_env: SITREP_API_TOKEN}]\n",
			wantTokens: `api token "jenkins": SITREP_API_TOKEN is not set`},
		{name: "two tokens, one secret", file: two, env: with(map[string]string{"SITREP_TOKEN_DEPLOY": "ci-secret-1"}),
			wantTokens: `SITREP_TOKEN_CI and SITREP_TOKEN_DEPLOY hold the same secret (tokens "ci" and "deploy-bot.v2"): give each token its own`},
		{name: "a named token and SITREP_API_TOKEN, one secret", file: two, env: with(map[string]string{"SITREP_API_TOKEN": "deploy-secret-2"}),
			wantTokens: `SITREP_TOKEN_DEPLOY and SITREP_API_TOKEN hold the same secret (tokens "deploy-bot.v2" and "api")`},
		{name: "a token named api beside SITREP_API_TOKEN", file: "api:\n  tokens: [{name: API, token_env: SITREP_TOKEN_CI}]\n",
			env:        with(map[string]string{"SITREP_API_TOKEN": "legacy"}),
			wantTokens: `sitrep.yaml: api token "API": the name is that of SITREP_API_TOKEN's token: rename this token, or unset SITREP_API_TOKEN`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "sitrep.yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"SITREP_CONFIG": path}
			for k, v := range tc.env {
				env[k] = v
			}
			// The messages name the file as sitrep.yaml.
			named := func(err error) string { return strings.ReplaceAll(fmt.Sprint(err), path, "sitrep.yaml") }
			cfg, err := Load(func(k string) string { return env[k] })
			if msg := named(err); tc.wantLoad != "" {
				if err == nil || !strings.Contains(msg, tc.wantLoad) {
					t.Fatalf("Load error = %v, want %q", err, tc.wantLoad)
				}
				assertNoSecret(t, msg, env)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tokens, err := cfg.APITokens()
			if tc.wantTokens != "" {
				if err == nil || !strings.Contains(named(err), tc.wantTokens) {
					t.Fatalf("APITokens error = %v, want %q", err, tc.wantTokens)
				}
				if tokens != nil {
					t.Errorf("APITokens returned tokens %v with its error", tokens)
				}
				assertNoSecret(t, err.Error(), env)
				return
			}
			if err != nil {
				t.Fatalf("APITokens: %v", err)
			}
			var got []string
			for _, tok := range tokens {
				got = append(got, tok.Name+"="+tok.Secret)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("tokens = %v, want %v", got, tc.want)
			}
			if printed := fmt.Sprintf("%+v %v", cfg.API, tokens); len(tokens) > 0 && strings.Contains(printed, strings.SplitN(tc.want[0], "=", 2)[1]) {
				t.Errorf("printing the configuration shows a secret: %s", printed)
			}
		})
	}
}

// assertNoSecret fails if msg holds the value of a variable that holds a
// secret, or the value written in the file's token_env.
func assertNoSecret(t *testing.T, msg string, env map[string]string) {
	t.Helper()
	for k, v := range env {
		if k != "SITREP_CONFIG" && strings.TrimSpace(v) != "" && strings.Contains(msg, strings.TrimSpace(v)) {
			t.Errorf("the error shows %s's secret: %s", k, msg)
		}
	}
	if strings.Contains(msg, "s3cr3t") {
		t.Errorf("the error shows what token_env held: %s", msg)
	}
}
