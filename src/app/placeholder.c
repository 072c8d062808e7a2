int tandem_app_placeholder_(void);
int tandem_app_placeholder_(void)
{
    return 0;
}
