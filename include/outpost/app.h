// The outpost command line: serve, migrate, backup. main() only calls runCli().
#pragma once

namespace outpost {

// Returns the process exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration.
int runCli(int argc, char** argv);

}  // namespace outpost
