// Package plugboard is the domain of the plugin platform, shared by the
// daemon, the admin app and the SDK: the error type with its codes, a
// plugin's identity, and the declarations a package makes (manifest, tool
// providers and tools, model providers and models, endpoints, agent
// strategies, datasources, triggers).
// It depends on the standard library only; decoding and validating packages
// is daemon/pkgfmt's, which fills these types.
package plugboard
