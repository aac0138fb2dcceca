using System;
using System.IO;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;

namespace HeadTracking.Trainer.Tests;

public sealed class LabelsFileTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("labels");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(params string[] lines)
    {
        string path = Path.Combine(_dir, "labels.jsonl");
        System.IO.File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Round_trip_keeps_every_field()
    {
        var label = new HeadLabel
        {
            Image = "a.jpg", Width = 64, Height = 48, Source = "synthetic", Identity = "p#1", Split = "valid",
            Center = [30, 20], CenterNorm = [-0.0625, -0.1667], Keypoints = [[1, 2, 1], [3, 4, 0]], Box = [5, 6, 40, 45],
            Pose = new PoseLabel(10, -5, 2, [1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 50]), Intrinsics = [60, 60, 32, 24],
            Mask = "a_mask.png", Classes = ["face"], Score = 0.9,
        };
        string path = Path.Combine(_dir, "labels.jsonl");
        LabelsFile.Write(path, [label, label with { Image = "b.jpg" }]);
        var read = LabelsFile.Read(path, new SkipReport(), strict: true);
        Assert.Equal(2, read.Count);
        Assert.Equal(label.ToJson(), read[0].ToJson());
        Assert.Equal("b.jpg", read[1].Image);
    }

    [Fact]
    public void Bad_lines_are_skipped_counted_and_named_or_stop_a_strict_read()
    {
        string path = File(
            """{"image":"ok.jpg","width":10,"height":10,"center":[5,5]}""",
            "{not json",
            """{"image":"far.jpg","width":10,"height":10,"center":[500,5]}""",
            "",
            """{"width":10,"height":10}""",
            """{"image":"nan.jpg","width":10,"height":10,"box":[1,1,0,0]}""");
        var skipped = new SkipReport();
        var labels = LabelsFile.Read(path, skipped);
        Assert.Single(labels);
        Assert.Equal(4, skipped.Count);
        Assert.Contains($"{path}:2: not valid JSON", skipped.First[0], StringComparison.Ordinal);
        Assert.Contains($"{path}:3: center out of range", skipped.First[1], StringComparison.Ordinal);
        Assert.Contains($"{path}:5: no image", skipped.First[2], StringComparison.Ordinal);
        Assert.Contains($"{path}:6: box out of range or empty", skipped.First[3], StringComparison.Ordinal);

        var e = Assert.Throws<InvalidDataException>(() => LabelsFile.Read(path, new SkipReport(), strict: true));
        Assert.StartsWith($"{path}:2:", e.Message, StringComparison.Ordinal);
    }
}
