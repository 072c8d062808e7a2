#include <stdio.h>
int main(void)
{
    fprintf(stderr, "tandemctl: not built yet\n");
    return 1;
}
