package github

import (
	"net/url"
	"regexp"
	"strings"
)

// Repo names a repository on GitHub (or a GitHub Enterprise server).
type Repo struct {
	Owner string
	Name  string
}

// String is the "owner/name" form, as Dify's source meta stores it.
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// ownerRe and nameRe are GitHub's rules for user/organisation and
// repository names.
var (
	ownerRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	nameRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// ParseRepo reads what a user pastes: "owner/repo",
// "https://github.com/owner/repo", with or without ".git", trailing slashes
// or a path below the repository (".../releases"). Its errors say what is
// wrong and what is expected.
func ParseRepo(s string) (Repo, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Repo{}, newError(ErrBadRepo, "Enter a repository: owner/name or https://github.com/owner/name.")
	}
	path, below := in, false // below: a URL may go on past the repository
	if strings.Contains(in, "://") {
		u, err := url.Parse(in)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Repo{}, badRepo(in)
		}
		path, below = u.Path, true
	} else if host, rest, ok := strings.Cut(in, "/"); ok && strings.Contains(host, ".") {
		path, below = rest, true // "github.com/owner/name"
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 || (len(parts) > 2 && !below) {
		return Repo{}, badRepo(in)
	}
	r := Repo{Owner: parts[0], Name: strings.TrimSuffix(parts[1], ".git")}
	if !ownerRe.MatchString(r.Owner) || !nameRe.MatchString(r.Name) || r.Name == "." || r.Name == ".." {
		return Repo{}, badRepo(in)
	}
	return r, nil
}

func badRepo(in string) error {
	if len(in) > 80 {
		in = in[:80] + "…"
	}
	return newError(ErrBadRepo, "%q is not a GitHub repository: enter owner/name or https://github.com/owner/name.", in)
}
