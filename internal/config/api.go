package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sitrep/sitrep/incident"
)

// API sets the change API: the bearer tokens it accepts. In the file:
//
//	api:
//	  tokens:
//	    - {name: ci, token_env: SITREP_TOKEN_CI}
//
// A token's secret is read from the environment variable it names, never
// from the file. SITREP_API_TOKEN, when set, is one more token, named "api"
// (DefaultAPITokenName), unless a token of the file reads that variable.
type API struct {
	// Tokens are the named tokens.
	Tokens []APITokenConfig `yaml:"tokens"`

	// secrets holds what each token's variable held at Load.
	secrets *secrets
}

// APITokenConfig is one token of the change API as written in the file.
type APITokenConfig struct {
	// Name is recorded as the source ("api:NAME") of the changes logged
	// with the token; see incident.APISource.
	Name string `yaml:"name"`
	// TokenEnv names the environment variable that holds the secret.
	TokenEnv string `yaml:"token_env"`
}

// APIToken is a token the change API accepts, with its secret. It prints
// as its name and variable, never its secret.
type APIToken struct {
	Name string
	// Env is the environment variable the secret came from.
	Env    string
	Secret string
}

// String names the token without its secret.
func (t APIToken) String() string { return t.Name + " (" + t.Env + ")" }

// secrets holds the tokens' secrets by variable. Behind a pointer, it
// prints as an address: an API printed with %+v shows no secret.
type secrets struct{ byEnv map[string]string }

// get returns what the variable env held, or "".
func (s *secrets) get(env string) string {
	if s == nil {
		return ""
	}
	return s.byEnv[env]
}

// DefaultAPITokenName names the token SITREP_API_TOKEN sets; the changes
// logged with it record the source "api", as they did before tokens had
// names.
const DefaultAPITokenName = "api"

// apiTokenEnv is the variable of the token named DefaultAPITokenName.
const apiTokenEnv = "SITREP_API_TOKEN"

// envName is what token_env may hold: a portable environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// otherSecrets are the variables sitrep reads for something else: an API
// token read from one would open the API to whoever holds that secret.
var otherSecrets = map[string]string{
	"SLACK_BOT_TOKEN":     "the Slack bot token",
	"SLACK_APP_TOKEN":     "the Slack app-level token",
	"SITREP_DATABASE_URL": "the database URL",
}

// loadAPI checks api.tokens (a name and a variable each, both unique) and
// reads each token's secret with getenv. Whether every secret is set is
// checked by APITokens, when the API is about to serve: other commands
// run without the API's secrets.
func (c *Config) loadAPI(getenv func(string) string) error {
	names := map[string]string{} // lower-case name → name
	envs := map[string]string{}  // variable → token name
	c.API.secrets = &secrets{byEnv: map[string]string{}}
	for i, tc := range c.API.Tokens {
		where := fmt.Sprintf("%s: api.tokens[%d]", c.where(), i)
		name := strings.TrimSpace(tc.Name)
		if name == "" {
			return fmt.Errorf("%s: name: missing: name the token, e.g. ci (the changes logged with it record api:ci as their source)", where)
		}
		if err := incident.CheckTokenName(name); err != nil {
			return fmt.Errorf("%s: name %q: %w", where, tc.Name, err)
		}
		where = fmt.Sprintf("%s: api token %q", c.where(), name)
		if other, ok := names[strings.ToLower(name)]; ok {
			return fmt.Errorf("%s: name: used by two tokens (%q and %q): give each token its own name", where, other, name)
		}
		names[strings.ToLower(name)] = name
		env := strings.TrimSpace(tc.TokenEnv)
		switch {
		case env == "":
			return fmt.Errorf("%s: token_env: missing: name the environment variable that holds the token's secret, e.g. SITREP_TOKEN_%s (the secret never goes in the file)", where, envSuffix(name))
		case !envName.MatchString(env):
			// Not quoted: it may be the secret itself, written in by mistake.
			return fmt.Errorf("%s: token_env is not an environment variable name (letters, digits and _, not starting with a digit), e.g. SITREP_TOKEN_%s: write the variable's name there and put the secret in that variable", where, envSuffix(name))
		case otherSecrets[env] != "":
			return fmt.Errorf("%s: token_env %s holds %s: give the API token a variable of its own", where, env, otherSecrets[env])
		}
		if other, ok := envs[env]; ok {
			return fmt.Errorf("%s: token_env %s: also read by token %q, so both would have one secret: give each token its own variable", where, env, other)
		}
		envs[env] = name
		c.API.Tokens[i] = APITokenConfig{Name: name, TokenEnv: env}
		c.API.secrets.byEnv[env] = strings.TrimSpace(getenv(env))
	}
	return nil
}

// envSuffix turns a token name into the end of an example variable name.
func envSuffix(name string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// APITokens returns the tokens the change API accepts: those of api.tokens,
// each with its secret, and SITREP_API_TOKEN's (named "api") unless a token
// of the file reads that variable. None is not an error: the API then
// refuses calls. A configured token whose variable is unset or empty, or
// two tokens with one secret, are: the error names every such setting and
// variable, never a secret, and sitrep does not serve the API with it.
func (c *Config) APITokens() ([]APIToken, error) {
	var tokens []APIToken
	var problems []error
	legacy := c.APIToken != ""
	for _, tc := range c.API.Tokens {
		if tc.TokenEnv == apiTokenEnv {
			legacy = false
		}
		secret := c.API.secrets.get(tc.TokenEnv)
		if secret == "" {
			problems = append(problems, fmt.Errorf("%s: api token %q: %s is not set: set it to the token's secret (e.g. the output of openssl rand -hex 32), or remove the token from api.tokens", c.where(), tc.Name, tc.TokenEnv))
			continue
		}
		tokens = append(tokens, APIToken{Name: tc.Name, Env: tc.TokenEnv, Secret: secret})
	}
	if legacy {
		for _, tc := range c.API.Tokens {
			if strings.EqualFold(tc.Name, DefaultAPITokenName) {
				problems = append(problems, fmt.Errorf("%s: api token %q: the name is that of SITREP_API_TOKEN's token: rename this token, or unset SITREP_API_TOKEN", c.where(), tc.Name))
			}
		}
		tokens = append(tokens, APIToken{Name: DefaultAPITokenName, Env: apiTokenEnv, Secret: c.APIToken})
	}
	for i := range tokens {
		for j := range i {
			if tokens[i].Secret == tokens[j].Secret {
				problems = append(problems, fmt.Errorf("%s and %s hold the same secret (tokens %q and %q): give each token its own, so the change log can tell them apart", tokens[j].Env, tokens[i].Env, tokens[j].Name, tokens[i].Name))
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return tokens, nil
}
