#include <stdio.h>
int main(void)
{
    fprintf(stderr, "tandem: not built yet\n");
    return 1;
}
