#include <cstdio>
int main() { std::puts("dvx"); return 0; }
