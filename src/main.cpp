#include "outpost/app.h"

int main(int argc, char** argv) { return outpost::runCli(argc, argv); }
