using System;
using System.IO;
using HeadTracking.Tests;

namespace HeadTracking.Trainer.Tests;

/// <summary>headtracker-train as a user runs it.</summary>
public sealed class TrainerCommandTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("train-cli");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Processes.Result Train(params string[] args) =>
        Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-train.dll"), .. args], timeoutSeconds: 180);

    [Fact]
    public void Init_export_inspect_shows_the_manifest()
    {
        string checkpoint = Path.Combine(_dir, "ck");
        string onnx = Path.Combine(_dir, "model.onnx");
        var init = Train("init", "--backbone", "blazeface", "--heads", "center,keypoints,box,pose,mask",
            "--weights", Repo.BlazeFaceFront, "--out", checkpoint, "--name", "cli-test");
        Assert.True(init.ExitCode == 0, init.All);
        Assert.Contains("50 matched, 0 missing, 0 shape-mismatched", init.StdOut, StringComparison.Ordinal);

        var export = Train("export", "--checkpoint", checkpoint, "--out", onnx, "--fold-bn");
        Assert.True(export.ExitCode == 0, export.All);

        var inspect = Train("inspect", onnx);
        Assert.True(inspect.ExitCode == 0, inspect.All);
        Assert.Contains("input     input float[batch,3,128,128]", inspect.StdOut, StringComparison.Ordinal);
        Assert.Contains("output    keypoints float[batch,6,2]", inspect.StdOut, StringComparison.Ordinal);
        Assert.Contains("\"name\": \"cli-test\"", inspect.StdOut, StringComparison.Ordinal);
        Assert.Contains("\"architecture\": \"blazeface+center+keypoints+box+pose+mask\"", inspect.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("BatchNormalization", inspect.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_reports_skipped_lines_by_default_and_stops_at_the_first_with_strict()
    {
        string labels = Path.Combine(_dir, "labels.jsonl");
        File.Copy(Repo.Fetched("faces/sample1.jpg"), Path.Combine(_dir, "a.jpg"));
        const string good = "{\"image\":\"a.jpg\",\"width\":1920,\"height\":1280}";
        File.WriteAllLines(labels, [good, "{oops", good]);

        var tolerant = Train("data", "--format", "jsonl", "--path", labels);
        Assert.True(tolerant.ExitCode == 0, tolerant.All);
        Assert.Contains("2 items", tolerant.StdOut, StringComparison.Ordinal);
        Assert.Contains($"skipped: {labels}:2: not valid JSON", tolerant.StdOut, StringComparison.Ordinal);

        var strict = Train("data", "--format", "jsonl", "--path", labels, "--strict");
        Assert.Equal(2, strict.ExitCode);
        Assert.StartsWith($"headtracker-train: {labels}:2: not valid JSON", strict.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Synth_in_two_processes_with_one_seed_writes_the_same_bytes()
    {
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        foreach (string output in new[] { a, b })
        {
            var r = Train("synth", "--out", output, "--count", "6", "--seed", "42", "--threads", "2");
            Assert.True(r.ExitCode == 0, r.All);
            // The dense teacher unwraps the textures: libtorch is told not to try NNPACK, which
            // printed a warning for each of its convolutions on CPUs NNPACK does not know (here).
            Assert.DoesNotContain("NNPACK", r.All, StringComparison.Ordinal);
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "labels.jsonl")), File.ReadAllBytes(Path.Combine(b, "labels.jsonl")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "000005.jpg")), File.ReadAllBytes(Path.Combine(b, "000005.jpg")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "000005_mask.png")), File.ReadAllBytes(Path.Combine(b, "000005_mask.png")));
    }

    [Theory]
    [InlineData("corrupt-onnx")]
    [InlineData("missing-checkpoint")]
    [InlineData("unknown-backbone")]
    [InlineData("unknown-head")]
    [InlineData("unknown-option")]
    public void Bad_input_gets_one_line_and_exit_code_2(string kind)
    {
        string corrupt = Path.Combine(_dir, "corrupt.onnx");
        File.WriteAllText(corrupt, "garbage");
        (string[] args, string expected) = kind switch
        {
            "corrupt-onnx" => (new[] { "inspect", corrupt }, corrupt),
            "missing-checkpoint" => (["export", "--checkpoint", Path.Combine(_dir, "nope"), "--out", Path.Combine(_dir, "x.onnx")], "nope"),
            "unknown-backbone" => (["init", "--backbone", "vgg", "--heads", "center", "--out", _dir], "'vgg'"),
            "unknown-head" => (["init", "--backbone", "blazeface", "--heads", "center,ears", "--out", _dir], "kind 'ears'"),
            "unknown-option" => (["inspect", corrupt, "--colour"], "'--colour'"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var r = Train(args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("headtracker-train: ", r.StdErr, StringComparison.Ordinal);
        Assert.Contains(expected, r.StdErr, StringComparison.Ordinal);
        Assert.Single(r.StdErr.Trim().Split('\n'));
    }
}
