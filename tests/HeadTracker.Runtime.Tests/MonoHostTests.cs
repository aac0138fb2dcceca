using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using HeadTracking.Tests;

namespace HeadTracking.Runtime.Tests;

/// <summary>
/// The runtime DLL the way a Unity-style game runs it: a C host embeds Mono (tests/Mono/host.c),
/// loads a game script compiled with mcs against the netstandard2.1 DLL, calls Start() and then
/// Update(dt) at 60 Hz while HeadTracker tracks a clip of a generated head with the shipped model.
/// </summary>
public sealed class MonoHostFixture : IDisposable
{
    public MonoHostFixture()
    {
        Dir = Repo.NewTempDir("mono-host");
        Payload = Path.Combine(Repo.Root, "src", "Unity", "bin", BuildOutput.Configuration, "netstandard2.1");
        Processes.Result build = Processes.Run("bash", [Path.Combine(Repo.Root, "tests", "Mono", "build.sh"), Payload, Path.Combine(Dir, "host")]);
        Assert.True(build.ExitCode == 0, "tests/Mono/build.sh failed:\n" + build.All);

        // Four seconds of a held-out generated person turning, nodding and moving (the demo's sample, shorter).
        string trainer = Path.Combine(BuildOutput.Of("src/Trainer"), "headtracker-train.dll");
        Processes.Result synth = Processes.Run("dotnet", [trainer, "synth-video", "--out", Path.Combine(Dir, "clip"), "--frames", "120", "--size", "480", "--seed", "5", "--sample", "2", "--threads", "2"]);
        Assert.True(synth.ExitCode == 0, "synth-video failed:\n" + synth.All);
        Truth = File.ReadLines(Path.Combine(Dir, "clip", "labels.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (X: e.GetProperty("center")[0].GetDouble(), Yaw: e.GetProperty("pose").GetProperty("yaw").GetDouble()))
            .ToArray();
    }

    public string Dir { get; }

    public string Payload { get; }

    /// <summary>Per video frame: the true head centre x (pixels) and yaw (degrees).</summary>
    public (double X, double Yaw)[] Truth { get; }

    /// <summary>Runs the host for <paramref name="frames"/> game frames; returns what it printed and the script's log.</summary>
    internal (Processes.Result Result, string[][] Log) RunHost(int frames, bool window)
    {
        string host = Path.Combine(Dir, "host");
        string log = Path.Combine(Dir, window ? "window.csv" : "plain.csv");
        var env = new Dictionary<string, string>
        {
            ["HEADTRACKER_MODEL"] = Path.Combine(Repo.Root, "models", "headtracker-default.onnx"),
            ["HEADTRACKER_VIDEO"] = Path.Combine(Dir, "clip", "video.avi"),
            ["HEADTRACKER_LOG"] = log,
            ["LD_LIBRARY_PATH"] = host,
        };
        string[] command = [Path.Combine(host, "mono-host"), Path.Combine(host, "HeadLookScript.dll"), "HeadLookScript", frames.ToString(CultureInfo.InvariantCulture)];
        Processes.Result r = window
            ? Processes.Run("xvfb-run", ["-a", "-s", "-screen 0 640x480x24", .. command, "--window"], host, env, timeoutSeconds: 120)
            : Processes.Run(command[0], command[1..], host, env, timeoutSeconds: 120);
        string[][] rows = File.Exists(log) ? File.ReadLines(log).Skip(1).Select(l => l.Split(',')).ToArray() : [];
        return (r, rows);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }
}

public sealed class MonoHostTests(MonoHostFixture f) : IClassFixture<MonoHostFixture>
{
    // The script's log columns (tests/Mono/HeadLookScript.cs).
    private const int Sequence = 2, Valid = 3, CentreX = 4, Yaw = 6, Status = 12;

    [Fact]
    public void The_netstandard_DLL_never_indexes_pins_or_enumerates_a_ReadOnlySpan()
    {
        // Mono's corlib lacks the modreq(In) signatures of ReadOnlySpan<T>'s indexer, pinning and
        // enumerator, so any call to them from netstandard2.1 code throws MissingMethodException there.
        string dll = Path.Combine(f.Payload, "HeadTracker.Runtime.dll");
        using var pe = new PEReader(File.OpenRead(dll));
        MetadataReader md = pe.GetMetadataReader();
        var offending = new List<string>();
        foreach (MemberReferenceHandle h in md.MemberReferences)
        {
            MemberReference m = md.GetMemberReference(h);
            string name = md.GetString(m.Name);
            string? parent = ParentTypeName(md, m.Parent);
            if (parent is "ReadOnlySpan`1" && name is "get_Item" or "GetPinnableReference" or "GetEnumerator"
                || parent is "Enumerator" && name is "get_Current" && IsNestedInReadOnlySpan(md, m.Parent))
            {
                offending.Add($"{parent}.{name}");
            }
        }

        Assert.True(offending.Count == 0, $"{dll} calls {string.Join(", ", offending.Distinct())}, which fail under Mono: use Span<T>, arrays or MemoryMarshal.GetReference");
    }

    [Fact]
    public void A_game_loop_under_embedded_Mono_tracks_the_head_through_the_clip()
    {
        (Processes.Result r, string[][] log) = f.RunHost(300, window: false);

        Assert.True(r.ExitCode == 0, "mono-host failed:\n" + r.All);
        Assert.DoesNotContain("threw", r.All, StringComparison.Ordinal);
        Assert.DoesNotContain("Faulted", r.All, StringComparison.Ordinal);
        Assert.Equal(300, log.Length);
        AssertFollowsTheHead(log);
    }

    [Fact]
    public void The_same_game_loop_renders_a_GLFW_window_under_Xvfb()
    {
        (Processes.Result r, string[][] log) = f.RunHost(300, window: true);

        Assert.True(r.ExitCode == 0, "mono-host --window under xvfb-run failed:\n" + r.All);
        AssertFollowsTheHead(log);

        // The last frame was cleared to a red level made from the script's camera yaw: the window
        // shows what the managed script computed.
        string line = r.StdOut.Split('\n').Single(l => l.Contains("last pixel", StringComparison.Ordinal));
        string[] px = line.Split("last pixel ")[1].Split(' ')[0].Split(',');
        double red = double.Parse(px[0], CultureInfo.InvariantCulture);
        double expected = double.Parse(line.Split("expected red ")[1].TrimEnd(')', '\r'), CultureInfo.InvariantCulture);
        Assert.InRange(red, expected - 2, expected + 2);
        Assert.InRange(double.Parse(px[1], CultureInfo.InvariantCulture), 62, 66); // 0.25 of 255
    }

    /// <summary>Every video frame was tracked once, and the tracked centre and yaw follow the truth.</summary>
    private void AssertFollowsTheHead(string[][] log)
    {
        Assert.DoesNotContain(log, row => row[Status] == "Faulted");
        var byFrame = new Dictionary<int, string[]>();
        foreach (string[] row in log.Where(row => row[Valid] == "1"))
        {
            byFrame.TryAdd(int.Parse(row[Sequence], CultureInfo.InvariantCulture) - 1, row); // sequence k is video frame k-1
        }

        Assert.True(byFrame.Count >= f.Truth.Length * 0.9, $"the game saw {byFrame.Count} tracked video frames of {f.Truth.Length}");
        int[] frames = [.. byFrame.Keys.Where(i => i < f.Truth.Length).Order()];
        double Col(int i, int c) => double.Parse(byFrame[i][c], CultureInfo.InvariantCulture);
        double rx = Correlation(frames.Select(i => Col(i, CentreX)), frames.Select(i => f.Truth[i].X));
        double ryaw = Correlation(frames.Select(i => Col(i, Yaw)), frames.Select(i => f.Truth[i].Yaw));
        Assert.True(rx > 0.9, $"tracked centre x against the truth: correlation {rx:F3}");
        Assert.True(ryaw > 0.9, $"filtered yaw against the truth: correlation {ryaw:F3}");
    }

    private static double Correlation(IEnumerable<double> a, IEnumerable<double> b)
    {
        double[] x = [.. a], y = [.. b];
        double mx = x.Average(), my = y.Average();
        double sxy = x.Zip(y, (p, q) => (p - mx) * (q - my)).Sum();
        double sxx = x.Sum(p => (p - mx) * (p - mx)), syy = y.Sum(q => (q - my) * (q - my));
        return sxy / Math.Sqrt(sxx * syy);
    }

    private static string? ParentTypeName(MetadataReader md, EntityHandle parent) =>
        TypeOf(md, parent) is { } t ? md.GetString(md.GetTypeReference(t).Name) : null;

    private static bool IsNestedInReadOnlySpan(MetadataReader md, EntityHandle parent) =>
        TypeOf(md, parent) is { } t
        && md.GetTypeReference(t).ResolutionScope is { Kind: HandleKind.TypeReference } scope
        && md.GetString(md.GetTypeReference((TypeReferenceHandle)scope).Name) == "ReadOnlySpan`1";

    /// <summary>The type a member reference's parent names: itself, or the generic type of an
    /// instance (a TypeSpec blob: GENERICINST, CLASS or VALUETYPE, then the type).</summary>
    private static TypeReferenceHandle? TypeOf(MetadataReader md, EntityHandle parent)
    {
        if (parent.Kind == HandleKind.TypeReference)
        {
            return (TypeReferenceHandle)parent;
        }

        if (parent.Kind != HandleKind.TypeSpecification)
        {
            return null;
        }

        BlobReader blob = md.GetBlobReader(md.GetTypeSpecification((TypeSpecificationHandle)parent).Signature);
        if (blob.ReadSignatureHeader().RawValue != (byte)SignatureTypeCode.GenericTypeInstance)
        {
            return null;
        }

        blob.ReadByte();
        EntityHandle type = blob.ReadTypeHandle();
        return type.Kind == HandleKind.TypeReference ? (TypeReferenceHandle)type : null;
    }
}
