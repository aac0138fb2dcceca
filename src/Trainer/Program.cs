namespace HeadTracker.Trainer;

internal static class Program
{
    public static int Main(string[] args) => args.Length;
}
